"""Official documents in the GB/T 9704-2012 layout (OFFICIAL-DOCS.md): printable HTML and PDF.

Reusable by any app above `campaign`: build an `OfficialDocument` (red header, number, title,
addressees, body blocks, attachments, signature, date, 版记) and call `render_html` for a page with
the print stylesheet (static/css/official.css) or `render_pdf` for a PDF (WeasyPrint, fonts embedded).
Notices, talk notices and supervision orders use it (accountability.drafting), and so can the weekly
bulletin: its tables are `Block("table", rows=…, header=…)`.

Body text written by staff becomes blocks with `blocks_from_text`: paragraphs are separated by blank
lines, and paragraphs starting `一、` / `（一）` / `1.` / `（1）` become headings of the matching level
(黑体 / 楷体 / 仿宋), as the standard asks.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

DOC_NUMBER_RE = re.compile(r"^\S+〔\d{4}〕[1-9]\d*号$")
DOC_DATE_RE = re.compile(r"^\d{4}年[1-9]\d?月[1-9]\d?日$")
STYLESHEET = "css/official.css"

_H1 = re.compile(r"^[一二三四五六七八九十百]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十百]+）")
_H3 = re.compile(r"^(\d+\.|（\d+）)")


def format_doc_number(series: str, year: int, seq: int) -> str:
    """`焦扫黑办〔2026〕12号`: four-digit year in 〔〕 (U+3014/U+3015), no leading zeros, no 第."""
    if seq < 1 or not 1000 <= year <= 9999:
        raise ValueError("document numbers start at 1 and need a four-digit year")
    return f"{series}〔{year}〕{seq}号"


def format_doc_date(day: dt.date) -> str:
    """`2026年3月5日`: Arabic numerals, full year, no zero padding."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_width_em(text: str) -> float:
    """Width in em: full-width (CJK) characters count 1, half-width ones (digits, Latin) 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.5 for c in text)


@dataclass
class Block:
    """One piece of body: a paragraph ("p"), a heading ("h1" 一、, "h2" （一）, "h3" 1.), or a table."""

    kind: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    caption: str = ""


def blocks_from_text(text: str) -> list[Block]:
    blocks = []
    for raw in re.split(r"\n\s*\n|\r\n\s*\r\n", text or ""):
        para = " ".join(line.strip() for line in raw.strip().splitlines() if line.strip())
        if not para:
            continue
        if _H1.match(para):
            kind = "h1"
        elif _H2.match(para):
            kind = "h2"
        elif _H3.match(para):
            kind = "h3"
        else:
            kind = "p"
        blocks.append(Block(kind, para))
    return blocks


@dataclass
class OfficialDocument:
    """Everything a downward official document (下行文) shows, top to bottom."""

    title: str
    body: list[Block]
    issuer: str
    signature: str
    date: dt.date | None
    number: str = ""
    header_suffix: str = ""
    addressees: str = ""
    attachments: list[str] = field(default_factory=list)
    sealed: bool = True
    note: str = ""
    cc: list[str] = field(default_factory=list)
    printer: str = ""
    printed_on: dt.date | None = None
    copy_number: str = ""
    secrecy: str = ""
    urgency: str = ""
    draft: bool = False  # a preview before issue: a "草稿" mark, no number

    @property
    def date_text(self) -> str:
        return format_doc_date(self.date) if self.date else ""

    @property
    def printed_on_text(self) -> str:
        day = self.printed_on or self.date
        return format_doc_date(day) if day else ""

    @property
    def addressee_line(self) -> str:
        # 主送机关 ends with a full-width colon (7.3.2).
        text = self.addressees.rstrip("：:").strip()
        return f"{text}：" if text else ""

    @property
    def cc_line(self) -> str:
        # 抄送：names separated by ，and ending in 。(7.4.2).
        names = [n.strip().rstrip("。，,") for n in self.cc if n.strip()]
        return "，".join(names) + "。" if names else ""

    @property
    def attachment_names(self) -> list[str]:
        # No punctuation after attachment names (7.3.4).
        return [re.sub(r"[。，；：、,.;:]+$", "", a.strip()) for a in self.attachments if a.strip()]

    @property
    def title_lines(self) -> list[str]:
        """The title broken into balanced lines (a trapezoid, the shorter line on top) when it is wider than
        a line of 2号 characters; breaks fall after a function word so words stay whole (7.3.1)."""
        max_em = 20.0  # 156 mm / 22 pt ≈ 20 characters
        if text_width_em(self.title) <= max_em:
            return [self.title]
        best = None
        for i in range(1, len(self.title)):
            first, second = self.title[:i], self.title[i:]
            w1, w2 = text_width_em(first), text_width_em(second)
            if w1 > max_em or w2 > max_em:
                continue
            good_break = first[-1] in "的于对在和与及、，" or second.startswith(
                ("关于", "实行", "进行", "的通知", "的决定", "的函", "的通报")
            )
            cost = abs(w2 - w1) + (0 if good_break else 6) + (0 if w1 <= w2 else 1)
            if best is None or cost < best[0]:
                best = (cost, [first, second])
        return best[1] if best else [self.title]

    @property
    def header_text(self) -> str:
        return f"{self.issuer}{self.header_suffix}"

    @property
    def header_size_pt(self) -> float:
        # No size is set for the red header; fill the 156 mm text area (≈ 442 pt) up to 2 cm characters.
        return round(min(56.0, 430.0 / max(text_width_em(self.header_text), 1.0)), 1)

    def signature_layout(self) -> dict:
        """Right offsets in em for 署名 and 成文日期 (7.3.5), for sealed and unsealed documents."""
        sw, dw = text_width_em(self.signature), text_width_em(self.date_text)
        if self.sealed:
            date_right = 4.0
            signer_right = max(0.0, date_right + dw / 2 - sw / 2)
        else:
            signer_right = 2.0
            date_right = sw - dw  # the date starts 2 chars right of the signer's start
            if date_right < 2.0:
                date_right = 2.0
                signer_right = 4.0 + dw - sw
        return {"signer_right": round(signer_right, 2), "date_right": round(date_right, 2)}


def _context(doc: OfficialDocument) -> dict:
    return {"doc": doc, "sign": doc.signature_layout()}


def render_fragment(doc: OfficialDocument) -> str:
    """The document alone (for embedding in a portal page that links official.css)."""
    return render_to_string("accountability/official/document.html", _context(doc))


def render_html(doc: OfficialDocument, *, request=None, toolbar: dict | None = None) -> str:
    """A standalone printable page: the document with the print stylesheet and an optional toolbar."""
    context = {**_context(doc), "toolbar": toolbar}
    return render_to_string("accountability/official/page.html", context, request=request)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries (Pango) are missing: scripts/doc_deps.sh installs them."""


def render_pdf(doc: OfficialDocument) -> bytes:
    """The document as PDF (A4, fonts embedded as subsets)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Python package is there but Pango is not
        raise PdfUnavailable(_("服务器未安装 PDF 生成组件，请使用打印功能。")) from exc
    # WeasyPrint reports every layout step at INFO; only its warnings belong in the portal's log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    html = render_to_string("accountability/official/page.html", {**_context(doc), "pdf": True})
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(string=_print_css())])


def _print_css() -> str:
    """official.css without its screen-only part (WeasyPrint cannot parse those media queries)."""
    with open(finders.find(STYLESHEET), encoding="utf-8") as fh:
        css = fh.read()
    return re.sub(r"/\* --- screen only.*?/\* --- end screen only --- \*/", "", css, flags=re.S)
