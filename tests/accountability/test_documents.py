"""Official documents: the OFFICIAL-DOCS.md checklist items a test can verify, and a rendered PDF looked at."""

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from accountability import drafting
from accountability.documents import (
    DOC_DATE_RE,
    DOC_NUMBER_RE,
    Block,
    OfficialDocument,
    PdfUnavailable,
    blocks_from_text,
    format_doc_date,
    format_doc_number,
    render_fragment,
    render_html,
    render_pdf,
)
from accountability.models import ActionKind

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "official.css").read_text()
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _rule(selector: str) -> str:
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert match, f"no CSS rule for {selector}"
    return match.group(1)


def sample(**overrides) -> OfficialDocument:
    values = {
        "title": "关于对市住建局线索核查工作实行挂牌督办的通知",
        "body": blocks_from_text(
            "你单位承办的线索超期未反馈。\n\n一、整改要求\n\n（一）重新核查。\n\n1.按期报送。\n\n请认真抓好落实。"
        ),
        "issuer": "焦作市扫黑除恶专项斗争领导小组办公室",
        "signature": "焦作市扫黑除恶专项斗争领导小组办公室",
        "date": dt.date(2026, 3, 5),
        "number": "焦扫黑办督〔2026〕12号",
        "addressees": "市住建局",
        "attachments": ["整改事项清单。", "线索清单"],
        "cc": ["市纪委监委", "市委组织部"],
        "printer": "焦作市扫黑办",
    }
    values.update(overrides)
    return OfficialDocument(**values)


# --- numbers and dates ---------------------------------------------------------------------------
def test_document_number_format():
    assert format_doc_number("焦扫黑办", 2026, 12) == "焦扫黑办〔2026〕12号"
    assert DOC_NUMBER_RE.match(format_doc_number("焦扫黑办督", 2026, 1))
    for bad in (
        "焦扫黑办〔2026〕01号",
        "焦扫黑办[2026]12号",
        "焦扫黑办（2026）12号",
        "焦扫黑办〔26〕12号",
        "焦扫黑办〔2026〕第12号",
    ):
        assert not DOC_NUMBER_RE.match(bad), bad
    with pytest.raises(ValueError):
        format_doc_number("焦扫黑办", 2026, 0)


@pytest.mark.parametrize(
    "day,text",
    [
        (dt.date(2018, 8, 31), "2018年8月31日"),
        (dt.date(2026, 1, 5), "2026年1月5日"),
        (dt.date(2026, 12, 10), "2026年12月10日"),
    ],
)
def test_document_date_format(day, text):
    assert format_doc_date(day) == text
    assert DOC_DATE_RE.match(text)


# --- the stylesheet ------------------------------------------------------------------------------
def test_page_is_a4_with_the_standard_margins():
    page = _rule("@page")
    assert "size: A4" in page
    assert "margin: 37mm 26mm 35mm 28mm" in page


def test_body_is_16pt_fangsong_with_two_character_indent():
    doc = _rule(".gw-doc")
    assert "font-size: 16pt" in doc
    stack = re.search(r"font-family:([^;]+);", doc).group(1)
    assert stack.strip().startswith('"仿宋_GB2312"')  # original names first, then substitutes
    assert "Noto Serif CJK SC" in stack
    assert "text-indent: 2em" in _rule(".gw-body p")


def test_title_red_header_and_red_line():
    title = _rule(".gw-title")
    assert "font-size: 22pt" in title and "text-align: center" in title and "color: #000" in title
    assert '"方正小标宋简体"' in title
    assert "margin: 57.9pt 0 0" in title  # two blank lines of 28.95 pt under the red line
    issuer = _rule(".gw-issuer")
    assert "text-align: center" in issuer and "color: #e60000" in issuer and "margin-top: 35mm" in issuer
    line = _rule(".gw-redline")
    assert "width: 156mm" in line and "#e60000" in line and "margin: 4mm auto 0" in line


def test_headings_fonts_by_level():
    assert '"黑体"' in _rule(".gw-body .gw-h1")
    assert '"楷体_GB2312"' in _rule(".gw-body .gw-h2")


def test_banji_and_page_numbers_are_14pt():
    banji = _rule(".gw-banji")
    assert "font-size: 14pt" in banji
    assert "border-top: 0.35mm solid #000" in banji and "border-bottom: 0.35mm solid #000" in banji
    assert "border-bottom: 0.25mm solid #000" in _rule(".gw-cc")
    assert 'content: "— " counter(page) " —"' in CSS
    right = re.search(r"@page :right \{\s*@bottom-right \{([^}]*)\}", CSS).group(1)
    left = re.search(r"@page :left \{\s*@bottom-left \{([^}]*)\}", CSS).group(1)
    assert "font-size: 14pt" in right and "text-align: right" in right and "padding-top: 7mm" in right
    assert "font-size: 14pt" in left and "text-align: left" in left


# --- the markup ----------------------------------------------------------------------------------
def test_markup_has_every_element_in_order():
    html = render_fragment(sample())
    order = [
        "gw-issuer",
        "gw-number",
        "gw-redline",
        "gw-title",
        "gw-addressees",
        "gw-body",
        "gw-attachments",
        "gw-signer",
        "gw-date",
        "gw-banji",
    ]
    positions = [html.index(f'class="{c}') for c in order]
    assert positions == sorted(positions)
    assert "焦扫黑办督〔2026〕12号" in html
    assert "市住建局：" in html  # 主送 ends with a full-width colon
    assert "签发人" not in html  # a downward document has no 签发人
    assert (
        '<span class="gw-cc-label">抄送：</span><span class="gw-cc-names">市纪委监委，市委组织部。</span>'
        in html
    )
    assert re.search(r"2026年3月5日印发</span>", html)
    assert "1. 整改事项清单</p>" in html and "2. 线索清单</p>" in html  # no punctuation after names
    assert (
        'class="gw-h1">一、整改要求' in html and 'class="gw-h2">（一）' in html and 'class="gw-h3">1.' in html
    )
    date = re.search(r'class="gw-date"[^>]*>([^<]+)<', html).group(1)
    assert DOC_DATE_RE.match(date)
    # The seal placeholder sits in the signature block, aligned on the date.
    sign = html[html.index('class="gw-sign') : html.index("</div>", html.index('class="gw-seal"'))]
    assert "gw-seal" in sign and "gw-date" in sign


def test_long_titles_break_into_balanced_lines_at_word_boundaries():
    lines = sample().title_lines
    assert "".join(lines) == "关于对市住建局线索核查工作实行挂牌督办的通知"
    assert len(lines) == 2 and lines[0].endswith(("的", "对", "于")) or lines[1].startswith("实行")
    assert len(sample(title="关于开展专项检查的通知").title_lines) == 1


def test_signature_layout_sealed_and_unsealed():
    # "2026年3月5日" is 3 full-width + 6 half-width characters = 6 em wide.
    # Sealed: the date 4 chars from the right, the 18-char signer centred over it (4 + 3 − 9 < 0 → 0).
    assert sample().signature_layout() == {"signer_right": 0.0, "date_right": 4.0}
    # Sealed, short signer: centred over the date: 4 + 6/2 − 6/2 = 4.
    assert sample(signature="焦作市扫黑办").signature_layout() == {"signer_right": 4.0, "date_right": 4.0}
    # Unsealed: signer 2 chars from the right, the date starting 2 chars right of the signer's start.
    assert sample(sealed=False).signature_layout() == {"signer_right": 2.0, "date_right": 12.0}
    # Unsealed, date as long as the signer: the date 2 chars from the right pushes the signer left.
    assert sample(sealed=False, signature="焦作市扫黑办").signature_layout() == {
        "signer_right": 4.0,
        "date_right": 2.0,
    }


def test_standalone_page_links_the_print_stylesheet_and_has_no_inline_script():
    html = render_html(sample(), toolbar={"back": "/x/", "pdf": "/x.pdf"})
    assert "/static/css/official.css" in html
    assert "<script>" not in html and "<style" not in html


@pytest.mark.django_db
def test_action_document_for_a_listed_supervision(issued):
    action = issued()
    doc = drafting.action_document(action)
    assert DOC_NUMBER_RE.match(doc.number)
    assert DOC_DATE_RE.match(doc.date_text)
    assert doc.addressee_line == "市住建局："
    tables = [b for b in doc.body if b.kind == "table"]
    assert len(tables) == 1 and len(tables[0].rows) == 2
    assert all(DOC_DATE_RE.match(row[2]) for row in tables[0].rows)
    assert doc.cc_line == "市纪委监委，市委组织部。"


@pytest.mark.django_db
def test_a_draft_previews_without_a_number(draft):
    doc = drafting.action_document(draft(kind=ActionKind.TALK, items=[]))
    assert doc.draft and doc.number == ""
    assert "（印发时分配文号）" in render_fragment(doc)


# --- PDF, looked at ------------------------------------------------------------------------------
def test_pdf_renders_a4_pages_and_looks_right():
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils missing (scripts/doc_deps.sh installs it)")
    body = (
        sample().body
        + [Block("p", "这是用于测试分页的一段较长的正文内容，确保版记出现在最后一页的底部。" * 3)] * 12
    )
    try:
        pdf = render_pdf(sample(body=body))
    except PdfUnavailable:
        pytest.skip("WeasyPrint/Pango missing (scripts/doc_deps.sh installs them)")
    assert pdf.startswith(b"%PDF")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "official-document.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and " yes " in fonts  # Chinese fonts embedded
    prefix = SCREENSHOTS / "official-document"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(prefix)], check=True)
    first = sorted(SCREENSHOTS.glob("official-document-*.png"))[0]
    from PIL import Image

    img = Image.open(first).convert("RGB")
    w, h = img.size

    def red_rows(y0, y1):
        return [
            y
            for y in range(int(y0 * h), int(y1 * h))
            if any(_red(img.getpixel((x, y))) for x in range(0, w, 2))
        ]

    # The red header and the red line sit in the top third of page 1, nowhere in the lower half.
    assert red_rows(0.2, 0.45)
    assert not red_rows(0.55, 1.0)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "焦扫黑办督〔2026〕12号" in text
    assert re.search(r"—\s*1\s*—", text) and re.search(rf"—\s*{pages}\s*—", text)
    last_page = text.split("\f")[pages - 1]
    assert "抄送：" in last_page and "印发" in last_page


def _red(pixel) -> bool:
    r, g, b = pixel
    return r > 180 and g < 90 and b < 90
