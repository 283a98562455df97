"""In Chromium: two tips from different channels name the same phone, written differently; each tip page
shows the other as related; the office links them and both end up under one lead; the graph draws them."""

import pytest

from leads.models import LeadTip
from reports.models import Tip

from ..conftest import browser_login
from .helpers import make_tip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tips(campaign_data):
    online = make_tip(
        campaign_data,
        "解放区某小区二期工地的土方被一伙人垄断，施工队必须用他们的渣土车，带头的电话137-0391-1234。",
        accused="马建国（外号“马三”）",
        channel="online",
        location="解放区民主路某小区二期工地",
    )
    phone = make_tip(
        campaign_data,
        "来电反映：马村区砂石运输被人霸占，不用他们的车就堵路打人，联系人电话１３７ ０３９１ １２３４。",
        channel="phone",
        sector="transport",
        region="macun",
    )
    return online, phone


def _open_related(page, tip: Tip):
    page.goto(f"/tips/{tip.pk}/")
    panel = page.locator(".linking-related")
    panel.wait_for(state="visible")
    return panel


def test_two_tips_with_the_same_phone_show_each_other_and_linking_puts_both_under_one_lead(
    new_page, campaign_data
):
    online, phone = _tips(campaign_data)
    page = new_page("desktop")
    browser_login(page, "office")

    panel = _open_related(page, phone)
    item = panel.locator(f'.related-item[data-kind="tip"][data-id="{online.pk}"]')
    item.wait_for(state="visible")
    assert "同一电话 137****1234" in item.inner_text()
    panel = _open_related(page, online)
    item = panel.locator(f'.related-item[data-kind="tip"][data-id="{phone.pk}"]')
    assert online.tracking_code not in item.inner_text() and phone.tracking_code in item.inner_text()
    assert "同一电话 137****1234" in item.inner_text()
    item.scroll_into_view_if_needed()
    page.shot("linking-tip-related")

    page.once("dialog", lambda dialog: dialog.accept())
    item.locator("button[data-action=link]").click()
    page.locator(".alert-success", has_text="已登记为同一线索").wait_for()
    lead_id = LeadTip.objects.get(tip=online).lead_id
    assert LeadTip.objects.get(tip=phone).lead_id == lead_id
    linked = page.locator(".related-linked")
    linked.wait_for(state="visible")
    assert phone.tracking_code in linked.inner_text()
    page.shot("linking-tip-linked")

    page.goto(f"/linking/leads/{lead_id}/graph/")
    page.locator("#link-graph canvas").wait_for()
    page.wait_for_timeout(1500)  # the force layout settles
    page.shot("linking-graph")

    mobile = new_page("phone")
    browser_login(mobile, "office")
    _open_related(mobile, phone).locator(".related-linked").wait_for(state="visible")
    mobile.locator(".linking-related").scroll_into_view_if_needed()
    mobile.shot("linking-tip-linked")
    mobile.goto(f"/linking/leads/{lead_id}/graph/")
    mobile.locator("#link-graph canvas").wait_for()
    mobile.wait_for_timeout(1500)
    mobile.shot("linking-graph")


def test_dismissing_a_suggestion_in_the_browser_hides_it_for_good(new_page, campaign_data):
    online, phone = _tips(campaign_data)
    page = new_page("desktop")
    browser_login(page, "office")
    panel = _open_related(page, online)
    panel.locator(f'.related-item[data-id="{phone.pk}"] button[data-action=dismiss]').click()
    page.locator(".linking-related .alert-success", has_text="已排除").wait_for()
    assert phone.tracking_code not in page.locator(".linking-related").inner_text()
    _open_related(page, phone)
    assert page.locator(".related-empty").is_visible()


def test_monitoring_import_and_repeat_pages_on_a_phone(new_page, campaign_data):
    import datetime as dt

    from leads.linking.services import watch_flag_create

    watch_flag_create(
        actor=campaign_data["users"]["office"],
        kind="phone",
        value="13703911234",
        reason="涉黑团伙骨干使用的号码",
        ends_on=dt.date.today() + dt.timedelta(days=180),
    )
    online, _phone = _tips(campaign_data)
    make_tip(campaign_data, "武陟县有人在砂石场收保护费，电话13703911234。", region="wuzhi", sector="mining")
    for size in ("desktop", "phone"):
        page = new_page(size)
        browser_login(page, "office")
        page.goto("/linking/watch/")
        page.shot("linking-watch")
        page.goto(f"/tips/{online.pk}/")
        page.locator(".linking-related .watch-flag").wait_for()
        page.locator(".linking-related").scroll_into_view_if_needed()
        page.shot("linking-tip-flag")
        page.goto("/linking/repeat/")
        assert "137****1234" in page.inner_text("main")
        page.shot("linking-repeat")
        page.goto("/linking/imports/")
        page.shot("linking-imports")
