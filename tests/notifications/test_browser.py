"""In a real browser: the bell shows the unread count; reading a notification opens it and lowers the count."""

import pytest

from campaign.notifications import notify

from ..conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_bell_list_and_mark_read(new_page, users, size):
    me = users["liaison_housing"]
    notify(
        users=[me],
        kind="lead.reminder",
        title="线索 JZ2026-0003 距核查期限还有3个工作日",
        body="请抓紧核查并按时回告。",
        email=False,
    )
    notify(
        users=[me],
        kind="lead.assigned",
        title="新交办线索 JZ2026-0007，请于1个工作日内签收",
        url="/notifications/?unread=1",  # a page every role has; real callers link the lead
        email=False,
    )
    page = new_page(size)
    browser_login(page, "liaison_housing")
    page.goto("/notifications/")
    bell = page.locator("#notification-badge")  # on phones too: the bell stays in the top bar
    assert bell.locator(".notification-count").inner_text() == "2"
    assert page.locator(".notification-unread").count() == 2
    page.shot("notifications")
    page.locator(".notification-list").get_by_role("button", name="查看").click()
    page.wait_for_url("**/notifications/?unread=1")
    assert page.locator(".notification-unread").count() == 1
    assert bell.locator(".notification-count").inner_text() == "1"
    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_load_state()
    assert page.locator(".notification-unread").count() == 0
    assert page.locator("#notification-badge .notification-count").count() == 0
    page.shot("notifications-all-read")
