"""English is a complete second UI language; Simplified Chinese stays the default.

The catalogue is locale/en/LC_MESSAGES/django.po, compiled to django.mo; both are kept in the repository
because a fresh machine has no msgfmt.
"""

import gettext as gettext_module
import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from ..conftest import ROOT

PO_PATH = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%%|%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[sdif]|\{[a-z_0-9]*\}")
# Chinese the users type themselves: the heading markers the document formatter recognises.
ALLOWED_CJK_IN_TRANSLATION = {"一、", "（一）"}
pytestmark = pytest.mark.django_db

# Labels the code translates at run time from a variable (`_(LIGHT_LABELS[color])`), so makemessages cannot
# see them where they are defined. Marked here so that they reach the catalogue; once their owners mark them
# with gettext_noop in place, these lines may go.
RUNTIME_MSGIDS = (
    # leads/templatetags/leads_tags.py LIGHT_LABELS
    gettext_noop("绿灯"),
    gettext_noop("黄灯"),
    gettext_noop("红灯"),
    gettext_noop("超期"),
    # leads/templatetags/leads_tags.py SYSTEM_EVENT_LABELS
    gettext_noop("受理登记"),
    gettext_noop("系统督办"),
    gettext_noop("交办未签收提醒"),
    gettext_noop("签收催办"),
    gettext_noop("签收超时督办"),
    gettext_noop("首次回告催报"),
    gettext_noop("阶段回告催报"),
    gettext_noop("查否后再次被举报"),
    gettext_noop("回访"),
    # leads/linking/selectors.py REASON_LABEL
    gettext_noop("同一电话"),
    gettext_noop("同一身份证号"),
    gettext_noop("同一统一社会信用代码"),
    gettext_noop("同一银行卡号"),
    gettext_noop("同一车牌"),
    gettext_noop("同一公司"),
    gettext_noop("同一人员"),
    gettext_noop("同一绰号"),
    # leads/linking/graph.py CATEGORY_LABELS
    gettext_noop("线索"),
    gettext_noop("举报"),
    gettext_noop("已有案件"),
    gettext_noop("人员"),
    gettext_noop("公司"),
    gettext_noop("电话"),
    gettext_noop("其他标识"),
    # reports/templatetags/reports_tags.py EVENT_LABELS
    gettext_noop("工作人员录入"),
    gettext_noop("研判"),
    gettext_noop("给举报人留言"),
    gettext_noop("查看举报人身份"),
    gettext_noop("申请举报奖励"),
    gettext_noop("举报奖励获批"),
    gettext_noop("举报奖励未获批准"),
    gettext_noop("举报奖励已发放"),
    gettext_noop("按期清除举报人信息"),
    gettext_noop("限制知悉范围"),
    gettext_noop("取消限制知悉范围"),
)
STAFF_USERS = ["office", "police", "liaison_housing", "unit_head_housing", "leader", "discipline", "admin"]


def parse_po(path: Path) -> list[dict]:
    """A small .po reader (no polib at run time): entries with msgid, msgid_plural, msgstr[n] and flags."""
    entries, entry, field = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = json.loads(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
            continue
        value = json.loads(rest)
        if keyword.startswith("msgstr["):
            field = int(keyword[7:-1])
            entry["msgstr"][field] = value
        elif keyword == "msgstr":
            field = 0
            entry["msgstr"][0] = value
        else:
            field = keyword
            entry[field] = value
    return [e for e in entries if e["msgid"] and not e.get("obsolete")]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def navbar(html: str) -> str:
    """The top bar and the menu (sidebar) of a staff page, with any breadcrumb."""
    navs = re.findall(r"<nav\b.*?</nav>", html, re.S)
    assert navs, "no navigation on the page"
    return "\n".join(navs)


def visible_text(html: str) -> str:
    """Text a user reads (and hears): tags dropped, attribute values a screen reader says kept."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<[^>]*aria-hidden="true"[^>]*>[^<]*</[^>]+>', " ", html)
    said = " ".join(re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + said


def chinese_left(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    # The language picker names Chinese in Chinese on purpose, so that a Chinese reader finds it.
    for word in ("简体中文", *allowed):
        text = text.replace(word, " ")
    return sorted({m.group(0) for m in re.finditer(r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]+", text)})


# --- the catalogue ----------------------------------------------------------------------------------


def test_english_is_configured_next_to_the_chinese_default():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert Path(settings.LOCALE_PATHS[0]) == ROOT / "locale"
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_every_catalogue_entry_is_translated_without_fuzzy_or_lost_placeholders():
    entries = parse_po(PO_PATH)
    assert len(entries) > 1500
    problems = []
    for e in entries:
        msgid, plural, msgstr = e["msgid"], e.get("msgid_plural"), e["msgstr"]
        if "fuzzy" in e["flags"]:
            problems.append(f"fuzzy: {msgid}")
        forms = [msgstr.get(0, ""), msgstr.get(1, "")] if plural else [msgstr.get(0, "")]
        if not all(forms):
            problems.append(f"untranslated: {msgid}")
            continue
        sources = [msgid, plural] if plural else [msgid]
        for source, form in zip(sources, forms, strict=True):
            # A plural's singular form may leave the count out ("one item" style is not used, but allowed).
            if placeholders(source) != placeholders(form) and not (
                plural and set(placeholders(form)) <= set(placeholders(source))
            ):
                problems.append(f"placeholders differ: {source!r} -> {form!r}")
            leftover = form
            for allowed in ALLOWED_CJK_IN_TRANSLATION:
                leftover = leftover.replace(allowed, "")
            if CJK.search(leftover):
                problems.append(f"Chinese left in translation: {form!r}")
    assert not problems, "\n".join(problems[:40])


def test_compiled_catalogue_matches_the_po_file():
    """The .mo in the repository is what Django loads: it must carry every translation of the .po."""
    with MO_PATH.open("rb") as fh:
        catalog = gettext_module.GNUTranslations(fh)
    stale = []
    for e in parse_po(PO_PATH):
        if e.get("msgid_plural"):
            got = [catalog.ngettext(e["msgid"], e["msgid_plural"], n) for n in (1, 2)]
            want = [e["msgstr"][0], e["msgstr"][1]]
        else:
            got, want = catalog.gettext(e["msgid"]), e["msgstr"][0]
        if got != want:
            stale.append(e["msgid"])
    assert not stale, f"django.mo is older than django.po (run compilemessages): {stale[:10]}"
    assert catalog.info().get("language") == "en"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext is not installed")
def test_every_wrapped_source_string_has_an_english_translation(tmp_path, monkeypatch):
    """makemessages over a copy of the source finds no msgid the committed catalogue lacks.

    makemessages writes into every locale/ directory it walks past, so it runs on a copy: the committed
    catalogue is never touched by a test.
    """
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "var", "node_modules", "static", "locale", "tests", "__pycache__", "*.pyc", "*.mo", "*.po"
        ),
    )
    (source / "locale").mkdir()
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[source / "locale"]):
        call_command("makemessages", locale=["en"], verbosity=0, no_obsolete=True)
    fresh = {e["msgid"] for e in parse_po(source / "locale" / "en" / "LC_MESSAGES" / "django.po")}
    known = {e["msgid"] for e in parse_po(PO_PATH) if e["msgstr"].get(0) and "fuzzy" not in e["flags"]}
    missing = sorted(fresh - known)
    assert not missing, (
        "new strings need English (makemessages -l en, translate, compilemessages):\n"
        + "\n".join(missing[:40])
    )


def test_django_serves_english_from_the_compiled_catalogue():
    with translation.override("en"):
        assert translation.gettext("我要举报") == "Submit a tip"
        assert translation.gettext("线索") == "Lead"
        assert translation.ngettext("共 %(n)s 条", "共 %(n)s 条", 2) % {"n": 2} == "2 leads"
    with translation.override("zh-hans"):
        assert translation.gettext("我要举报") == "我要举报"


def test_labels_translated_at_run_time_have_english():
    from leads.linking.graph import CATEGORY_LABELS
    from leads.linking.selectors import REASON_LABEL
    from leads.templatetags.leads_tags import LIGHT_LABELS, SYSTEM_EVENT_LABELS
    from reports.templatetags.reports_tags import EVENT_LABELS

    labels = [
        *LIGHT_LABELS.values(),
        *SYSTEM_EVENT_LABELS.values(),
        *REASON_LABEL.values(),
        *CATEGORY_LABELS.values(),
        *EVENT_LABELS.values(),
    ]
    with translation.override("en"):
        untranslated = [label for label in labels if CJK.search(translation.gettext(label))]
    assert not untranslated, f"add them to RUNTIME_MSGIDS (or gettext_noop at the source): {untranslated}"
    assert set(labels) <= set(RUNTIME_MSGIDS)


# --- pages --------------------------------------------------------------------------------------------


def test_landing_page_in_english_by_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("public:landing")).content.decode()
    assert '<html lang="en"' in html
    for phrase in ("Submit a tip", "Track a tip", "Informant protection", "Staff login"):
        assert phrase in html
    assert "我要举报" not in html and "工作人员登录" not in html


def test_landing_page_in_english_by_accept_language(client):
    html = client.get(reverse("public:landing"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Submit a tip" in html
    assert "我要举报" not in html


def test_public_pages_show_no_chinese_ui_text_in_english(client, campaign_data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for name in ("public:landing", "login"):
        html = client.get(reverse(name)).content.decode()
        assert not chinese_left(visible_text(html)), (name, chinese_left(visible_text(html)))


def test_login_page_in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("login")).content.decode()
    assert "Log in" in html
    assert "Username" in html and "Password" in html
    assert "登录" not in html


def test_chinese_stays_the_default(client, client_as):
    html = client.get(reverse("public:landing")).content.decode()
    assert '<html lang="zh-CN"' in html
    assert "我要举报" in html and "Submit a tip" not in html
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "登录" in html and "Log in" not in html
    html = client_as("office").get(reverse("home")).content.decode()
    assert "退出登录" in navbar(html) and "Log out" not in navbar(html)


def test_language_switch_sets_the_cookie_and_the_next_page_is_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Submit a tip" in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "我要举报" in client.get("/").content.decode()


@pytest.mark.parametrize("username", STAFF_USERS)
def test_staff_home_navbar_is_english(client_as, users, username):
    client = client_as(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    bar = navbar(html)
    assert "Log out" in bar and "Account security" in bar
    user = users[username]
    # Names of people and units are data, not UI labels: they stay as entered.
    data = tuple(
        filter(None, [str(user), getattr(user.unit, "short_name", ""), getattr(user.unit, "name", "")])
    )
    assert not chinese_left(visible_text(bar), data), chinese_left(visible_text(bar), data)
    assert "Anti-Gang Lead Management Platform" in html


# --- in a browser ---------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_in_english_gets_the_english_landing_page(new_page, campaign_data):
    page = new_page("phone", locale="en-US")
    page.goto("/")
    assert page.get_by_role("link", name="Submit a tip").first.is_visible()
    page.shot("landing-en")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_switch_language_with_the_picker(new_page, campaign_data):
    from ..conftest import browser_login

    page = new_page("desktop")
    browser_login(page, "office")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.select_option("#lang-select", "en")  # the picker submits itself (static/js/portal.js)
    page.wait_for_load_state()
    page.get_by_text("Anti-Gang Lead Management Platform").first.wait_for()
    assert page.url.endswith("/home/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.shot("home-office-en")
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_load_state()
    page.get_by_text("扫黑除恶线索管理平台").first.wait_for()
