"""Lead pages: who may open which, scoping 404s, forms with readable errors, and query budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaign.models import AuditEntry
from leads.models import Assignment, Lead, LeadEvent, LeadStatus
from reports.models import Tip, TipStatus

from .factories import act, assignment_of, build, make_tip, register, sign_off, submit

pytestmark = pytest.mark.django_db

PAGES = {
    "leads:list": {
        "office",
        "police",
        "liaison_housing",
        "unit_head_housing",
        "leader",
        "discipline",
        "admin",
    },
    "leads:workspace": {"liaison_housing"},
    "leads:unit_due": {"unit_head_housing", "liaison_housing"},
    "leads:review": {"office"},
    "leads:referred": {"discipline", "office", "leader"},
    "leads:triage": {"office"},
    "leads:new": {"office", "police"},
}
EVERYONE = ["office", "police", "liaison_housing", "unit_head_housing", "leader", "discipline", "admin"]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_opens_for_its_roles_and_refuses_the_rest(client, users, name):
    for username in EVERYONE:
        client.force_login(users[username])
        response = client.get(reverse(name))
        expected = 200 if username in PAGES[name] else 403
        assert response.status_code == expected, (name, username, response.status_code)


def test_anonymous_users_are_sent_to_login(client, campaign_data):
    response = client.get(reverse("leads:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_liaison_gets_404_for_a_transport_only_lead_page(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["transport"], sector="transport", region="macun")
    client = client_as("liaison_housing")
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert (
        client.post(reverse("leads:detail", args=[lead.pk]), {"action": "accept", "version": 1}).status_code
        == 404
    )
    assert f">{lead.number}<" not in client.get(reverse("leads:list") + f"?q={lead.number}").content.decode()
    assert client_as("liaison_transport").get(reverse("leads:detail", args=[lead.pk])).status_code == 200


def test_lead_page_shows_the_buttons_the_table_allows(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    page = client_as("liaison_housing").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-action-form="accept"' in page and 'data-action-form="send_back"' in page
    assert 'data-action-form="close"' not in page and 'data-action-form="assign"' not in page
    leader = client_as("leader").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "data-action-form=" not in leader
    assert "您当前没有可执行的操作" in leader


def test_accept_from_the_page_then_submit_findings(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    client = client_as("liaison_housing")
    url = reverse("leads:detail", args=[lead.pk])
    response = client.post(url, {"action": "accept", "version": lead.version})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFYING
    response = client.post(
        url, {"action": "request_sign_off", "version": lead.version, "result": "", "findings": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择核查结论。" in page and "请填写核查情况。" in page
    response = client.post(
        url,
        {"action": "request_sign_off", "version": lead.version, "result": "partly", "findings": "部分属实。"},
        follow=True,
    )
    assert "已提请第一责任人签字背书" in response.content.decode()
    # The unit head signs off on the same page; then the liaison submits what was signed.
    lead.refresh_from_db()
    head = client_as("unit_head_housing")
    response = head.post(url, {"action": "sign_off", "version": lead.version}, follow=True)
    assert "已签字背书" in response.content.decode()
    lead.refresh_from_db()
    client = client_as("liaison_housing")
    page = client.get(url).content.decode()
    assert "以 张海涛 签字背书的内容提交" in page
    response = client.post(url, {"action": "submit_result", "version": lead.version}, follow=True)
    assert "核查结果已提交" in response.content.decode()
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == LeadStatus.VERIFIED
    assert (assignment_of(lead, "housing").result, assignment_of(lead, "housing").findings) == (
        "partly",
        "部分属实。",
    )


def test_stale_page_gets_409_and_the_current_state(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    seen = lead.version
    act(users, lead, "accept", "liaison_transport")
    response = client_as("liaison_housing").post(
        reverse("leads:detail", args=[lead.pk]), {"action": "accept", "version": seen}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "已被他人更新" in page and "核查中" in page
    assert assignment_of(lead, "housing").status == "assigned"


def test_refused_action_from_the_page_shows_the_reason(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    response = client_as("liaison_housing").post(
        reverse("leads:detail", args=[lead.pk]), {"action": "send_back", "version": lead.version, "note": ""}
    )
    assert response.status_code == 400
    assert "请填写退单理由。" in response.content.decode()


def test_office_review_queue_lists_results_extensions_and_send_backs(client_as, users, sectors, regions):
    verified = build("verified", users, sectors, regions)
    verifying = build("verifying", users, sectors, regions)
    sent = build("registered", users, sectors, regions)
    page = client_as("office").get(reverse("leads:review")).content.decode()
    assert verified.number in page and verifying.number in page and sent.number in page
    assert "需调取银行流水" in page


def test_workspace_sorts_by_deadline_and_flags_overdue_and_not_accepted(client_as, users, sectors, regions):
    late = register(users, sectors, regions, units=["housing"])
    soon = register(users, sectors, regions, units=["housing"])
    act(users, soon, "accept", "liaison_housing")
    Assignment.objects.filter(lead=late).update(deadline="2020-01-10T15:59:59Z")
    other = register(users, sectors, regions, units=["transport"], sector="transport", region="macun")
    page = client_as("liaison_housing").get(reverse("leads:workspace")).content.decode()
    assert page.index(late.number) < page.index(soon.number)
    assert other.number not in page
    assert "row-overdue" in page and "超期" in page and "not-accepted" in page


def test_unit_head_sees_overdue_and_near_due_of_the_unit(client_as, users, sectors, regions):
    overdue = register(users, sectors, regions, units=["housing"])
    Assignment.objects.filter(lead=overdue).update(deadline="2020-01-10T15:59:59Z")
    far = register(users, sectors, regions, units=["housing"], days=60)
    page = client_as("unit_head_housing").get(reverse("leads:unit_due")).content.decode()
    assert overdue.number in page and far.number not in page


def test_discipline_page_lists_referred_leads(client_as, users, sectors, regions):
    lead = build("verified", users, sectors, regions)
    act(users, lead, "close", "office", disposition="discipline_referral")
    other = build("closed", users, sectors, regions)
    page = client_as("discipline").get(reverse("leads:referred")).content.decode()
    assert lead.number in page and other.number not in page
    assert client_as("discipline").get(reverse("leads:detail", args=[other.pk])).status_code == 404


def test_triage_page_shows_proposals_and_registers_a_tip(client_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    client = client_as("office")
    page = client.get(reverse("leads:triage")).content.decode()
    assert tip.tracking_code in page and "行业 交通运输 的牵头监管单位" in page
    detail = client.get(reverse("leads:triage_tip", args=[tip.pk])).content.decode()
    assert 'value="transport" ' in detail and "checked" in detail
    response = client.post(
        reverse("leads:triage_tip", args=[tip.pk]),
        {
            "triage_action": "register",
            "register-summary": tip.description,
            "register-sector": "transport",
            "register-region": "macun",
            "register-priority": "normal",
            "register-source": "public_report",
            "register-units": ["transport", "police"],
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert sorted(lead.assignments.values_list("unit__code", flat=True)) == ["police", "transport"]
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.REGISTERED


def test_triage_reject_without_reason_shows_the_error(client_as, users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    response = client_as("office").post(
        reverse("leads:triage_tip", args=[tip.pk]), {"triage_action": "reject"}
    )
    assert response.status_code == 400
    assert "这个字段是必填项" in response.content.decode() or "必填" in response.content.decode()
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.NEW


def test_bulk_triage_from_the_page(client_as, users, sectors, regions):
    tips = [make_tip(sector=sectors["transport"], region=regions["macun"]) for _ in range(3)]
    client = client_as("office")
    response = client.post(
        reverse("leads:triage"),
        {"bulk_action": "register_each", "tips": [t.pk for t in tips[:2]], "note": ""},
    )
    assert response.status_code == 302
    assert Lead.objects.count() == 2
    response = client.post(
        reverse("leads:triage"), {"bulk_action": "reject", "tips": [tips[2].pk], "note": "不属实"}
    )
    assert Tip.objects.get(pk=tips[2].pk).status == TipStatus.REJECTED


def test_register_lead_page_shows_field_errors(client_as, users):
    response = client_as("police").post(reverse("leads:new"), {"summary": ""})
    assert response.status_code == 400
    assert not Lead.objects.exists()
    response = client_as("police").post(
        reverse("leads:new"),
        {"summary": "110警情", "sector": "transport", "region": "macun", "priority": "normal"},
    )
    assert response.status_code == 302
    assert Lead.objects.get().created_by == users["police"]


def test_attachment_download_is_scoped_and_audited(client_as, users, sectors, regions, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    lead = register(users, sectors, regions, units=["housing", "transport"])
    act(users, lead, "accept", "liaison_housing")
    sign_off(users, lead, "liaison_housing", result="partly", findings="部分属实")
    png = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    act(
        users,
        lead,
        "submit_result",
        "liaison_housing",
        result="partly",
        findings="部分属实",
        attachments=[png],
    )
    att = lead.attachments.get()
    url = reverse("leads:attachment", args=[lead.pk, att.pk])
    response = client_as("office").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(action="lead_attachment_download", target_id=str(att.pk)).exists()
    assert client_as("liaison_transport").get(url).status_code == 404  # co-unit: not its findings
    assert client_as("liaison_market").get(url).status_code == 404


# --- query budgets -------------------------------------------------------------------------------
def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _grow(users, sectors, regions, n):
    for i in range(n):
        lead = register(users, sectors, regions, units=["housing", "transport"])
        if i % 2:
            act(users, lead, "accept", "liaison_housing")
        if i % 3 == 0:
            act(users, lead, "accept", "liaison_transport")
            submit(users, lead, "liaison_transport")
        make_tip(sector=sectors["transport"], region=regions["macun"])


@pytest.mark.parametrize(
    "username,name",
    [
        ("office", "leads:list"),
        ("leader", "leads:list"),
        ("liaison_housing", "leads:list"),
        ("liaison_housing", "leads:workspace"),
        ("unit_head_housing", "leads:unit_due"),
        ("office", "leads:review"),
        ("office", "leads:triage"),
        ("discipline", "leads:referred"),
    ],
)
def test_list_pages_cost_the_same_queries_for_few_and_many_rows(
    client_as, users, sectors, regions, username, name
):
    client = client_as(username)
    _grow(users, sectors, regions, 2)
    few = _queries(client, reverse(name))
    _grow(users, sectors, regions, 8)
    assert _queries(client, reverse(name)) == few
    assert few <= 25


def test_lead_page_queries_do_not_grow_with_history(client_as, users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    client = client_as("office")
    few = _queries(client, reverse("leads:detail", args=[lead.pk]))
    act(users, lead, "accept", "liaison_housing")
    act(users, lead, "accept", "liaison_transport")
    submit(users, lead, "liaison_housing")
    act(users, lead, "assign", "office", units=["market"])
    assert _queries(client, reverse("leads:detail", args=[lead.pk])) == few
    assert LeadEvent.objects.filter(lead=lead).count() == 8  # with the sign-off request and signature
