"""Linking pages: the related panel (htmx fragment and page), graph, monitoring, repeat targets, cases."""

import datetime as dt
import json
import re

import pytest

from leads.linking.models import ImportedCase, Link, WatchFlag
from leads.linking.services import entities_index_case
from leads.models import LeadTip
from leads.services import tip_triage
from reports.models import Tip

from .helpers import make_lead, make_tip

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
SOON = (dt.date.today() + dt.timedelta(days=200)).isoformat()


@pytest.fixture
def two(campaign_data):
    a = make_tip(campaign_data, "工地土方被人垄断，电话137-0391-1234。", channel="online")
    b = make_tip(campaign_data, "车队霸占运输，电话１３７０３９１１２３４。", channel="phone", region="wuzhi")
    return a, b


def test_the_tip_page_loads_the_related_panel(client_as, two):
    a, _b = two
    page = client_as("office").get(f"/tips/{a.pk}/").content.decode()
    assert f'hx-get="/linking/tips/{a.pk}/related/"' in page


def test_the_lead_page_loads_the_related_panel(client_as, campaign_data):
    lead = make_lead(campaign_data, "工地土方被人垄断，电话137-0391-1234。", units=["housing"])
    page = client_as("office").get(f"/leads/{lead.pk}/").content.decode()
    assert f'hx-get="/linking/leads/{lead.pk}/related/"' in page


def test_the_related_fragment_lists_suggestions_with_reasons_and_buttons(client_as, two):
    a, b = two
    r = client_as("office").get(f"/linking/tips/{a.pk}/related/", **HX)
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert b.tracking_code in html and "同一电话 137****1234" in html
    assert f'hx-post="/linking/tips/{a.pk}/related/link/"' in html
    full = client_as("office").get(f"/linking/tips/{a.pk}/related/").content.decode()
    assert "<html" in full and b.tracking_code in full


def test_read_only_roles_see_suggestions_without_buttons(client_as, two):
    a, b = two
    html = client_as("leader").get(f"/linking/tips/{a.pk}/related/", **HX).content.decode()
    assert b.tracking_code in html and "hx-post" not in html


def test_out_of_scope_tips_and_leads_are_404(client_as, campaign_data, two, units):
    a, b = two
    lead = make_lead(campaign_data, "团伙强揽土方。", units=["transport"])
    client = client_as("liaison_housing")
    for url in (
        f"/linking/tips/{a.pk}/related/",
        f"/linking/leads/{lead.pk}/related/",
        f"/linking/leads/{lead.pk}/graph/",
        "/linking/tips/999999/related/",
    ):
        assert client.get(url).status_code == 404, url
    Tip.objects.filter(pk=a.pk).update(unit=units["housing"])
    html = client.get(f"/linking/tips/{a.pk}/related/", **HX).content.decode()
    assert b.tracking_code not in html and "暂无关联建议" in html


def test_anonymous_users_are_sent_to_login(client, two):
    a, _b = two
    r = client.get(f"/linking/tips/{a.pk}/related/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_linking_through_the_panel_reloads_the_page_with_both_tips_under_one_lead(client_as, two):
    a, b = two
    r = client_as("office").post(f"/linking/tips/{a.pk}/related/link/", {"kind": "tip", "id": b.pk}, **HX)
    assert r.status_code == 204 and r["HX-Refresh"] == "true"
    assert LeadTip.objects.get(tip=a).lead_id == LeadTip.objects.get(tip=b).lead_id


def test_dismissing_through_the_panel_swaps_the_fragment(client_as, two):
    a, b = two
    r = client_as("office").post(f"/linking/tips/{a.pk}/related/dismiss/", {"kind": "tip", "id": b.pk}, **HX)
    html = r.content.decode()
    assert r.status_code == 200 and "已排除该建议" in html and b.tracking_code not in html
    page = client_as("office").get(f"/linking/tips/{a.pk}/related/").content.decode()
    assert "已排除的建议" in page and b.tracking_code in page  # listed with a 恢复 button


def test_a_refused_link_says_why_in_the_fragment(client_as, two):
    a, _b = two
    r = client_as("office").post(f"/linking/tips/{a.pk}/related/link/", {"kind": "tip", "id": 999999}, **HX)
    assert r.status_code == 200 and "关联对象不存在" in r.content.decode()
    assert not Link.objects.exists()


def test_non_office_cannot_post_links(client_as, two):
    a, b = two
    assert (
        client_as("leader")
        .post(f"/linking/tips/{a.pk}/related/link/", {"kind": "tip", "id": b.pk})
        .status_code
        == 403
    )
    assert not Link.objects.exists()


def test_the_related_fragment_has_a_query_budget(client_as, campaign_data, django_assert_max_num_queries):
    a = make_tip(campaign_data, "电话13703911234的人强揽土方。")
    for i in range(25):
        make_tip(campaign_data, f"电话13703911234，第{i}次。", region="wuzhi")
    client = client_as("office")
    with django_assert_max_num_queries(22):
        r = client.get(f"/linking/tips/{a.pk}/related/", **HX)
    assert r.content.decode().count("related-item") >= 20


def test_the_graph_shows_the_lead_its_tips_entities_and_visible_neighbours(
    client_as, users, campaign_data, two
):
    a, b = two
    lead = tip_triage(tip_id=a.pk, action="register", actor=users["office"]).lead
    case = ImportedCase.objects.create(
        kind="criminal",
        case_number="刑〔2025〕1号",
        title="寻衅滋事",
        description="电话13703911234",
        row_hash="-",
    )
    entities_index_case(case_id=case.pk)
    html = client_as("office").get(f"/linking/leads/{lead.pk}/graph/").content.decode()
    data = json.loads(
        re.search(r'<script id="link-graph-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    ids = {n["id"] for n in data["nodes"]}
    assert {f"lead:{lead.pk}", f"tip:{a.pk}", f"tip:{b.pk}", f"case:{case.pk}"} <= ids
    phone = next(n for n in data["nodes"] if n["name"] == "137****1234")
    assert phone["url"].startswith("/linking/entities/")
    assert {"source": f"tip:{b.pk}", "target": phone["id"]} in data["links"]
    assert "js/linking.js" in html and "echarts.min.js" in html
    # A unit that handles the lead sees it, but neither the other tip nor the case, and no entity links.
    from leads.services import lead_transition

    lead_transition(
        lead_id=lead.pk, action="assign", actor=users["office"], units=[campaign_data["units"]["housing"]]
    )
    html = client_as("liaison_housing").get(f"/linking/leads/{lead.pk}/graph/").content.decode()
    data = json.loads(
        re.search(r'<script id="link-graph-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    ids = {n["id"] for n in data["nodes"]}
    assert f"lead:{lead.pk}" in ids and f"tip:{b.pk}" not in ids and f"case:{case.pk}" not in ids
    assert all(not n["url"] for n in data["nodes"] if n["id"].startswith("entity:"))


def test_the_watch_page_creates_flags_and_shows_errors_next_to_fields(client_as, users):
    client = client_as("liaison_housing")
    r = client.post(
        "/linking/watch/", {"kind": "phone", "value": "12345", "reason": "骨干", "ends_on": "2020-01-01"}
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "“12345”不是有效的电话" in html and "截止日期不能早于今天" in html
    r = client.post(
        "/linking/watch/", {"kind": "phone", "value": "13703911234", "reason": "", "ends_on": SOON}
    )
    assert r.status_code == 400 and "invalid-feedback" in r.content.decode()
    assert not WatchFlag.objects.exists()
    r = client.post(
        "/linking/watch/", {"kind": "phone", "value": "137-0391-1234", "reason": "骨干号码", "ends_on": SOON}
    )
    assert r.status_code == 302
    flag = WatchFlag.objects.get()
    assert flag.unit.code == "housing"
    assert "137****1234" in client.get("/linking/watch/").content.decode()
    # Another unit neither lists it nor opens it.
    other = client_as("liaison_transport")
    assert "137****1234" not in other.get("/linking/watch/").content.decode()
    assert other.get(f"/linking/watch/{flag.pk}/").status_code == 404


def test_the_flag_shows_on_the_panel(client_as, users, campaign_data):
    from leads.linking.services import watch_flag_create

    watch_flag_create(
        actor=users["office"],
        kind="company",
        value="焦作市宏达建筑工程有限公司",
        reason="涉嫌强揽",
        ends_on=dt.date.fromisoformat(SOON),
    )
    tip = make_tip(campaign_data, "焦作市宏达建筑工程有限公司强揽工程。")
    html = client_as("office").get(f"/linking/tips/{tip.pk}/related/", **HX).content.decode()
    assert "重点监控" in html and "焦作市宏达建筑工程有限公司" in html and "涉嫌强揽" in html


def test_repeat_targets_list_entities_across_regions(client_as, campaign_data, django_assert_max_num_queries):
    for region, sector in (("jiefang", "construction"), ("wuzhi", "transport"), ("macun", "lending")):
        make_tip(campaign_data, "电话13703911234的人又来了。", region=region, sector=sector)
    make_tip(campaign_data, "电话13803911234。")
    make_tip(campaign_data, "电话13803911234。")
    client = client_as("office")
    with django_assert_max_num_queries(12):
        html = client.get("/linking/repeat/").content.decode()
    assert "137****1234" in html and "138****1234" not in html
    assert "138****1234" in client.get("/linking/repeat/?all=1").content.decode()
    assert client_as("liaison_housing").get("/linking/repeat/").status_code == 403


def test_the_entity_page_lists_visible_mentions(client_as, campaign_data):
    from leads.linking.models import Entity

    tip = make_tip(campaign_data, "电话13703911234的人又来了。")
    entity = Entity.objects.get(value="13703911234")
    html = client_as("office").get(f"/linking/entities/{entity.pk}/").content.decode()
    assert tip.tracking_code in html and "<strong>137****1234</strong>" in html and "见于：举报内容" in html
    assert client_as("liaison_housing").get(f"/linking/entities/{entity.pk}/").status_code == 403


def test_case_pages_for_case_roles(client_as):
    case = ImportedCase.objects.create(
        kind="petition", case_number="信〔2025〕3号", title="征地补偿", row_hash="-"
    )
    assert "信〔2025〕3号" in client_as("police").get("/linking/cases/?q=征地").content.decode()
    assert "征地补偿" in client_as("leader").get(f"/linking/cases/{case.pk}/").content.decode()
    assert client_as("liaison_housing").get("/linking/cases/").status_code == 403


@pytest.mark.parametrize("who", ["office", "police", "liaison_housing", "unit_head_housing", "leader"])
def test_menu_entries_open_for_their_roles(client_as, who):
    client = client_as(who)
    home = client.get("/").content.decode() if client.get("/").status_code == 200 else ""
    assert client.get("/linking/watch/").status_code == 200
    if who in ("office", "police", "leader"):
        assert "/linking/repeat/" in home or client.get("/linking/repeat/").status_code == 200
