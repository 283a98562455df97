"""End to end in Chromium: a tip becomes a lead for two units, both verify, the office returns one result,
then closes the lead; the informant sees the outcome; a liaison cannot open another unit's lead by URL."""

import pytest

from leads.models import Lead, LeadStatus
from leads.services import lead_register
from reports.models import PublicStatus, Tip

from ..conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONCLUSION = "经核查，您反映的问题部分属实，有关部门已依法处理。感谢您的支持。"


def _submit_tip(sectors, regions):
    from reports.services import tip_submit

    tip, pin = tip_submit(
        description="修武县某工业园区工地，一伙人强揽土方运输，殴打其他车队司机，还在基本农田上堆放砂石。",
        sector=sectors["construction"],
        region=regions["xiuwu"],
        accused="绰号“黑三”的土方老板",
    )
    return tip, pin


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
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def _head_signs(lead, username):
    """The unit head's signature (签字背书, issue 11); the practice browser test does it on the page."""
    from campaign.models import User
    from leads.services import lead_transition

    liaison = User.objects.get(username=username)
    head = User.objects.get(role="unit_head", unit=liaison.unit)
    lead_transition(lead_id=lead.pk, action="sign_off", actor=head)


def _submit_signed(page, lead, username, result, findings):
    _act(
        page,
        "request_sign_off",
        {f"input[name=result][value={result}]": True, "textarea[name=findings]": findings},
    )
    assert "已提请第一责任人签字背书" in page.content()
    _head_signs(lead, username)
    page.reload()
    _act(page, "submit_result")
    assert "核查结果已提交" in page.content()


def _liaison_verifies(new_page, username, lead, findings, shot=None):
    page = new_page("desktop")
    browser_login(page, username)
    page.goto("/leads/workspace/")
    page.get_by_role("link", name=lead.number).click()
    if shot:
        page.shot(f"{shot}-before-accept")
    _act(page, "accept")
    assert page.locator(".alert-success").first.is_visible()
    _submit_signed(page, lead, username, "partly", findings)
    if shot:
        page.shot(shot)
    return page


def test_lead_from_tip_to_closure_with_two_units(new_page, campaign_data, sectors, regions, users):
    tip, pin = _submit_tip(sectors, regions)

    # Office: triage the tip, register it and assign housing (proposed) and transport.
    office = new_page("desktop")
    browser_login(office, "office")
    office.goto("/leads/triage/")
    assert tip.tracking_code in office.content()
    office.shot("leads-triage")
    office.goto(f"/leads/triage/{tip.pk}/")
    assert office.locator("input[name=register-units][value=housing]").is_checked()  # the routing proposal
    office.locator("input[name=register-units][value=transport]").check()
    office.shot("leads-triage-tip")
    office.locator("#tab-register button[type=submit]").click()
    office.wait_for_load_state()
    lead = Lead.objects.get()
    assert office.url.endswith(f"/leads/{lead.pk}/")
    assert sorted(lead.assignments.values_list("unit__code", flat=True)) == ["housing", "transport"]
    office.shot("leads-detail-assigned")

    # Both liaisons sign for and report back.
    _liaison_verifies(
        new_page, "liaison_housing", lead, "经查，强揽土方属实，已责令整改。", shot="leads-liaison-submitted"
    )
    _liaison_verifies(new_page, "liaison_transport", lead, "运输车辆证照齐全，殴打司机一节已移交公安。")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFIED

    # Office: the review queue, return housing's result for re-verification.
    office.goto("/leads/review/")
    assert lead.number in office.content()
    office.shot("leads-review")
    office.get_by_role("link", name=lead.number).first.click()
    housing_id = lead.assignments.get(unit__code="housing").pk
    _act(
        office,
        "return_for_reverification",
        {"select[name=assignment]": str(housing_id), "textarea[name=note]": "未走访受害司机，请补充核查。"},
    )
    assert "已退回重查" in office.content()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VERIFYING

    # Housing verifies again; the office closes the lead with a conclusion for the informant.
    housing = new_page("desktop")
    browser_login(housing, "liaison_housing")
    housing.goto(f"/leads/{lead.pk}/")
    _submit_signed(housing, lead, "liaison_housing", "substantiated", "补充走访司机5人，强揽、殴打属实。")
    office.goto(f"/leads/{lead.pk}/")
    _act(
        office,
        "close",
        {
            "select[name=disposition]": "criminal_case",
            "textarea[name=public_conclusion]": CONCLUSION,
            "textarea[name=note]": "审核同意办结。",
        },
    )
    assert "线索已办结" in office.content()
    office.shot("leads-detail-closed")
    lead.refresh_from_db()
    assert (lead.status, lead.disposition, lead.result) == ("closed", "criminal_case", "substantiated")
    timeline = list(lead.events.values_list("action", flat=True))
    assert timeline.count("submit_result") == 3 and "return_for_reverification" in timeline

    # The informant follows the tip up with the tracking code and PIN.
    tip.refresh_from_db()
    assert (tip.public_status, tip.public_conclusion) == (PublicStatus.CONCLUDED, CONCLUSION)
    for size in ("phone", "desktop"):
        informant = new_page(size)
        informant.goto("/track/")
        informant.fill("#id_tracking_code", tip.tracking_code)
        informant.fill("#id_pin", pin)
        informant.locator("form button[type=submit]").first.click()
        informant.wait_for_load_state()
        text = informant.content()
        assert CONCLUSION in text and "已办结" in text
        assert "住建" not in text and "强揽土方属实" not in text  # no internal details
        informant.shot("leads-informant-outcome")

    # liaison_housing cannot open a transport-only lead by URL.
    transport_only = lead_register(
        actor=users["office"],
        sector=sectors["transport"],
        region=regions["macun"],
        summary="客运线路被一伙人控制。",
        units=["transport"],
    )
    response = housing.goto(f"/leads/{transport_only.pk}/")
    assert response.status == 404
    assert Tip.objects.count() == 1


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_pages_render_at_both_sizes(new_page, campaign_data, sectors, regions, users, size):
    from leads.demo import seed_leads

    seed_leads()
    shots = [
        ("office", "/leads/", "leads-list"),
        ("office", "/leads/review/", "leads-review-demo"),
        ("office", "/leads/triage/", "leads-triage-demo"),
        ("liaison_housing", "/leads/workspace/", "leads-workspace"),
        ("unit_head_housing", "/leads/due/", "leads-unit-due"),
        ("discipline", "/leads/referred/", "leads-referred"),
        ("leader", "/home/", "leads-home-leader"),
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
    shared = Lead.objects.filter(assignments__unit__code="housing", status=LeadStatus.VERIFYING).first()
    pages["liaison_housing"].goto(f"/leads/{shared.pk}/")
    pages["liaison_housing"].shot("leads-detail-liaison")
