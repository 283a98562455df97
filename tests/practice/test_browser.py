"""End to end in Chromium (issue 11): a liaison signs for an assignment, files a first report-back, sees the
light turn yellow as time moves on, asks the unit head to sign off and submits; the office closes it as
查否 with the office leader's sign-off; a new tip with the same phone number flags it for review."""

import pytest
from django.utils import timezone

from campaign import workdays
from leads.models import Assignment, Lead, LeadStatus
from leads.services import lead_register

from ..conftest import browser_login, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13803910147"


def _act(page, action, fill=None):
    page.click(f"#act-{action} > button")
    form = page.locator(f"form[data-action-form={action}]")
    form.wait_for(state="visible")
    for selector, value in (fill or {}).items():
        if value is True:
            form.locator(selector).check()
        elif selector.startswith("select"):
            form.locator(selector).select_option(value)
        else:
            form.locator(selector).fill(value)
    # Generous: CI runs the browser tests on 2 shared cores, and a sign-off writes notifications and SMS.
    with page.expect_navigation(timeout=45_000):
        form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def _light(page, lead) -> str:
    row = page.locator(f"#assignment-{lead.assignments.get().pk} .light")
    return row.get_attribute("class").replace("light ", "").replace("light-", "")


def test_sign_for_report_sign_off_close_and_repeat_review(
    new_page, campaign_data, users, sectors, regions, celery_worker_process
):
    lead = lead_register(
        actor=users["office"],
        sector=sectors["lending"],
        region=regions["jiefang"],
        summary=f"群众反映有人以“快速放款”为名发放高利贷，联系电话{PHONE}，逾期后上门滋扰。",
        units=["housing"],
    )

    # The liaison signs for it from the workspace, and reports back first.
    liaison = new_page("desktop")
    browser_login(liaison, "liaison_housing")
    liaison.goto("/leads/workspace/")
    assert liaison.locator("text=待签收").first.is_visible()
    liaison.shot("practice-workspace-to-sign")
    liaison.get_by_role("link", name=lead.number).click()
    assert liaison.locator(".sign-for").is_visible()  # the sign-for time is shown
    _act(liaison, "accept")
    assert "已签收" in liaison.content()
    _act(
        liaison,
        "report_first",
        {"textarea[name=note]": "已成立核查组，调取了放贷人通话记录，正在走访借款人。"},
    )
    assert "首次回告已报送" in liaison.content()
    assert liaison.locator("#report-backs .report-back[data-kind=first]").is_visible()
    assert _light(liaison, lead) == "green"
    liaison.shot("practice-first-report")

    # Time moves on: four working days left → the light turns yellow (the deadline moved is the same as
    # the calendar moving towards it).
    yellow = workdays.add_workdays(timezone.now(), 4)
    Assignment.objects.filter(lead=lead).update(deadline=yellow)
    Lead.objects.filter(pk=lead.pk).update(deadline=yellow)
    liaison.reload()
    assert _light(liaison, lead) == "yellow"
    liaison.goto("/leads/workspace/?light=yellow")
    assert lead.number in liaison.content()
    liaison.shot("practice-workspace-yellow")
    liaison.goto(f"/leads/{lead.pk}/")

    # The result goes to the unit head first; submitting is not offered before the signature.
    assert liaison.locator("#act-submit_result").count() == 0
    _act(
        liaison,
        "request_sign_off",
        {
            "input[name=result][value=unsubstantiated]": True,
            "textarea[name=findings]": "拨打所留电话无人接听，走访借款人5人均否认借款，未发现放贷、滋扰情况。",
        },
    )
    assert "已提请第一责任人签字背书" in liaison.content()

    head = new_page("phone")
    browser_login(head, "unit_head_housing")
    head.goto("/leads/signoffs/")
    assert lead.number in head.content()
    head.shot("practice-head-queue")
    with head.expect_navigation():
        head.get_by_role("link", name=lead.number).click()
    # The queue links to the sign-off form, which opens by itself.
    form = head.locator("form[data-action-form=sign_off]")
    form.wait_for(state="visible")
    head.wait_for_timeout(500)  # the collapse animation
    form.locator("textarea[name=note]").fill("同意上报。")
    with head.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已签字背书" in head.content()
    head.shot("practice-head-signed")

    liaison.reload()
    assert liaison.locator(".signed-content").count() == 1
    _act(liaison, "submit_result")
    assert "核查结果已提交" in liaison.content()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFIED

    # The office may not close it as 查否 alone; the office leader signs off, then the office closes it.
    office = new_page("desktop")
    browser_login(office, "office")
    office.goto(f"/leads/{lead.pk}/")
    _act(office, "close", {"select[name=disposition]": "no_action"})
    assert "须经办领导签字背书" in office.content()
    office.shot("practice-close-needs-leader")
    leader = new_page("desktop")
    browser_login(leader, "office_leader")
    leader.goto(f"/leads/{lead.pk}/")
    _act(leader, "sign_off_closure", {"textarea[name=note]": "同意查否办结。"})
    assert "办领导已签字背书" in leader.content()
    office.goto(f"/leads/{lead.pk}/")
    _act(
        office,
        "close",
        {
            "select[name=disposition]": "no_action",
            "textarea[name=public_conclusion]": "经核查，暂未发现您反映的问题。如有新的情况，欢迎继续反映。",
        },
    )
    assert "线索已办结" in office.content()
    assert office.locator("#signoffs .signoff").count() == 2
    office.shot("practice-closed-signed")
    lead.refresh_from_db()
    assert (lead.status, lead.result) == ("closed", "unsubstantiated")
    sheet = new_page("desktop")
    browser_login(sheet, "office")
    sheet.goto(f"/leads/{lead.pk}/print/")
    assert "张海涛" in sheet.content() and "王建国" in sheet.content()
    sheet.shot("practice-print-sheet")

    # A new tip with the same phone number (written differently): the worker flags the lead for review.
    worker = celery_worker_process(queues="routing,default")
    from reports.services import tip_submit

    tip_submit(
        description=f"又有人放高利贷，电话还是138-0391-{PHONE[-4:]}，借款人被堵门。",
        sector=sectors["lending"],
    )
    wait_for(lambda: Lead.objects.get(pk=lead.pk).review_pending, timeout=60)
    assert worker.poll() is None
    office.goto("/leads/reviews/?pending=1")
    row = office.locator(f"tr[data-lead='{lead.number}']")
    assert row.is_visible() and "1 次" in row.inner_text()
    office.shot("practice-review-list")
    office.goto(f"/leads/{lead.pk}/")
    assert office.locator("#review-pending").is_visible() and office.locator("#repeats").is_visible()
    office.shot("practice-review-detail")
    phone = new_page("phone")
    browser_login(phone, "office")
    phone.goto("/leads/reviews/")
    phone.shot("practice-review-list")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_practice_pages_at_both_sizes(new_page, campaign_data, size):
    from accountability.bulletin import seed_bulletins
    from leads.demo import seed_leads
    from reports.demo import seed_reports

    seed_reports()
    seed_leads()
    seed_bulletins()
    from leads.models import Bulletin

    shots = [
        ("office", "/leads/?ordering=light", "practice-register-lights"),
        ("office", "/leads/reviews/", "practice-reviews-demo"),
        ("office", "/leads/callbacks/?month=" + _month_with_callbacks(), "practice-callbacks"),
        ("office", "/bulletins/", "practice-bulletins"),
        (
            "office",
            f"/bulletins/{Bulletin.objects.order_by('-period_start').first().pk}/",
            "practice-bulletin",
        ),
        ("unit_head_housing", "/leads/signoffs/", "practice-signoffs-demo"),
        ("unit_head_housing", "/leads/due/", "practice-unit-due"),
        ("liaison_housing", "/leads/workspace/", "practice-workspace-demo"),
    ]
    pages = {}
    for username, url, name in shots:
        page = pages.get(username)
        if page is None:
            page = pages[username] = new_page(size)
            browser_login(page, username)
        response = page.goto(url)
        assert response.status == 200, url
        page.shot(name)
    doc = pages["office"]
    doc.goto(f"/bulletins/{Bulletin.objects.order_by('period_start').first().pk}/document/")
    doc.shot("practice-bulletin-document")


def _month_with_callbacks() -> str:
    from leads.models import CallBack

    callback = CallBack.objects.order_by("-month").first()
    return f"{callback.month:%Y-%m}" if callback else ""
