"""Issue 6, done when: an overdue lead escalates to an accountability proposal; the office confirms it as a
listed-supervision order with two rectification items; the unit reports rectification with evidence; the
office accepts one item and rejects the other; the document prints with its number; the unit's assessment
reflects it; a veto turns the unit's grade to failing."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accountability import assessments, services
from accountability.demo import demo_png
from accountability.models import Action, ActionKind, ActionStatus, Assessment, ItemStatus
from leads.escalation_levels import EscalationLevel
from leads.models import Assignment

from ..conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _overdue_lead(users, sectors, regions):
    """A lead assigned to housing three weeks ago with five working days: about ten working days overdue."""
    from leads.services import lead_register

    lead = lead_register(
        actor=users["office"],
        sector=sectors["construction"],
        region=regions["jiefang"],
        summary="某小区工地被当地“沙霸”强揽土方工程，多次暴力阻工",
        accused="赵某 焦作市某土方工程队",
        units=["housing"],
        days=5,
        now=timezone.now() - dt.timedelta(days=21),
    )
    assignment = lead.assignments.get()
    try:  # the leads escalation sweep moves it up the ladder (督办 at 7 working days overdue)
        from leads.escalation import escalation_sweep

        escalation_sweep()
    except ImportError:  # pragma: no cover - before the escalation sweep existed
        pass
    assignment.refresh_from_db()
    if assignment.escalation_level < EscalationLevel.SUPERVISION:
        Assignment.objects.filter(pk=assignment.pk).update(escalation_level=EscalationLevel.SUPERVISION)
    return lead


def _accept_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_overdue_lead_to_listed_supervision_rectification_assessment_and_veto(new_page, campaign_data):
    users, sectors, regions = campaign_data["users"], campaign_data["sectors"], campaign_data["regions"]
    lead = _overdue_lead(users, sectors, regions)
    today = timezone.localdate()
    assessments.assessments_compute(kind="quarter", day=today)
    before = Assessment.objects.get(unit__code="housing", period_kind="quarter")
    assert before.metrics["raw"]["open_rectifications"] == 0

    # The accountability sweep (beat) turns the escalated assignment into a draft for the office.
    counts = services.accountability_sweep()
    assert counts["proposals_created"] == 1
    proposal = Action.objects.get(leads=lead)
    assert proposal.status == ActionStatus.DRAFT

    # --- the office confirms it as listed supervision with two items ------------------------------
    office = new_page("desktop")
    _accept_dialogs(office)
    browser_login(office, "office")
    assert office.get_by_text("问责建议待确认").is_visible()
    office.shot("acc-01-office-home")
    office.goto("/accountability/proposals/")
    office.get_by_role("link", name=proposal.title).click()
    assert lead.number in office.content()
    office.shot("acc-02-proposal")
    office.locator("#edit-action").click()
    office.select_option("#id_kind", "listed_supervision")
    office.fill("#id_title", "")
    rows = office.locator("#item-rows textarea")
    while rows.count() < 2:
        office.click("[data-add-item]")
    rows.nth(0).fill("对该线索重新组织力量核查，查清“沙霸”团伙组织架构和违法犯罪事实")
    office.fill("#id_items-0-deadline_days", "10")
    rows.nth(1).fill("对全市在建工地土方工程开展排查，建立问题台账，逐项销号")
    office.fill("#id_items-1-deadline_days", "20")
    office.shot("acc-03-edit")
    office.click("button[name=issue]")
    office.wait_for_selector("#doc-number")
    number = office.locator("#doc-number").inner_text()
    assert re.match(r"^焦扫黑办督〔\d{4}〕[1-9]\d*号$", number), number
    action = Action.objects.get(pk=proposal.pk)
    assert action.kind == ActionKind.LISTED_SUPERVISION and action.status == ActionStatus.ISSUED
    assert action.items.count() == 2
    office.shot("acc-04-issued")

    # The document prints with its number (print media, as the browser's print dialog sees it).
    office.locator("#open-document").click()
    office.wait_for_selector(".gw-number")
    assert office.locator(".gw-number").inner_text() == number
    assert "实行挂牌督办" in office.locator(".gw-body").inner_text()  # the wording followed the new kind
    office.emulate_media(media="print")
    assert office.locator(".gw-toolbar").is_hidden()
    assert office.locator(".gw-number").is_visible() and office.locator(".gw-banji").is_visible()
    office.shot("acc-05-document-print")
    office.emulate_media(media="screen")
    office.shot("acc-05-document-screen")
    with office.expect_download() as download:
        office.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    # --- the unit reports rectification with evidence (on a phone) ---------------------------------
    phone = new_page("phone")
    _accept_dialogs(phone)
    browser_login(phone, "liaison_housing")
    phone.goto("/accountability/rectification/")
    assert phone.get_by_text(number).first.is_visible()
    phone.shot("acc-06-liaison-rectification")
    phone.get_by_text(number).first.click()
    items = list(action.items.order_by("seq"))
    for n, item in enumerate(items, start=1):
        phone.fill(f"#report-body-{item.pk}", f"第{n}项已按要求整改，附现场照片和台账。")
        phone.set_input_files(
            f"#report-evidence-{item.pk}",
            files=[{"name": f"整改照片{n}.png", "mimeType": "image/png", "buffer": demo_png().read()}],
        )
        phone.locator(f"#report-body-{item.pk}").locator("xpath=ancestor::form").locator(
            "button[type=submit]"
        ).click()
        phone.wait_for_load_state()
        assert phone.locator(".alert-success").first.is_visible()
    phone.shot("acc-07-liaison-reported")
    assert {i.status for i in action.items.all()} == {ItemStatus.REPORTED}

    # --- the office accepts one item and rejects the other --------------------------------------
    office.goto(f"/accountability/{action.pk}/")
    office.fill(f"#decision-note-{items[0].pk}", "核查扎实，予以验收。")
    office.locator(f"#decision-note-{items[0].pk}").locator("xpath=ancestor::form").locator(
        "button[value=accept_item]"
    ).click()
    office.wait_for_load_state()
    office.locator(f"#decision-note-{items[1].pk}").locator("xpath=ancestor::form").locator(
        "button[value=reject_item]"
    ).click()
    office.wait_for_load_state()
    assert office.get_by_text("请写明验收不通过的理由").is_visible()  # a rejection needs a reason
    office.fill(f"#decision-note-{items[1].pk}", "台账未明确责任人和整改时限，请补充后重新报送。")
    office.locator(f"#decision-note-{items[1].pk}").locator("xpath=ancestor::form").locator(
        "button[value=reject_item]"
    ).click()
    office.wait_for_load_state()
    statuses = dict(action.items.values_list("seq", "status"))
    assert statuses == {1: ItemStatus.ACCEPTED, 2: ItemStatus.REJECTED}
    assert office.locator("#item-2 .acc-item-status").inner_text() == "验收未通过"
    office.shot("acc-08-office-decided")

    # --- the assessment reflects it -------------------------------------------------------------
    office.goto("/accountability/assessments/")
    office.locator("#recompute").click()
    office.wait_for_load_state()
    office.locator("tr[data-unit=housing] a").click()
    rect = office.locator("tr[data-indicator=rectification]")
    assert "未完成整改 1 项" in rect.inner_text()
    after = Assessment.objects.get(unit__code="housing", period_kind="quarter")
    assert after.metrics["raw"]["open_rectifications"] == 1
    assert float(after.metrics["detail"]["rectification"]["score"]) == 9.0  # 10 − 1 open item
    assert after.grade != "fail" or after.computed_score < 60
    office.shot("acc-09-assessment-breakdown")

    # --- a veto turns the grade to failing ------------------------------------------------------
    office.goto("/accountability/new/")
    office.select_option("#id_kind", "veto")
    office.locator("label", has_text="市住建局").first.click()
    office.fill("#id_reasons", "市住建局对工程建设领域“沙霸”问题长期失管失察，经责任倒查存在失职失责问题。")
    office.fill("#id_leads", lead.number)
    office.get_by_role("button", name="创建草稿").click()
    office.wait_for_selector("#action-edit")
    office.click("button[name=issue]")
    office.wait_for_selector("#doc-number")
    veto_number = office.locator("#doc-number").inner_text()
    assert re.match(r"^焦扫黑办〔\d{4}〕[1-9]\d*号$", veto_number), veto_number
    office.goto("/accountability/assessments/")
    row = office.locator("tr[data-unit=housing]")
    assert "不合格" in row.inner_text() and "一票否决" in row.inner_text()
    office.shot("acc-10-ranking-veto")
    row.locator("a").click()
    assert office.locator("#grade").inner_text() == "不合格"
    assert veto_number in office.locator("#veto-note").inner_text()
    office.shot("acc-11-assessment-veto")

    # Leaders see the ranking (read only) on a phone.
    leader = new_page("phone")
    browser_login(leader, "leader")
    leader.goto("/accountability/assessments/")
    assert "不合格" in leader.locator("tr[data-unit=housing]").inner_text()
    assert leader.locator("#recompute").count() == 0
    leader.shot("acc-12-leader-ranking")
    leader.goto(f"/accountability/{action.pk}/")
    assert leader.locator("main form button[type=submit]").count() == 0
    leader.shot("acc-13-leader-action")
