"""Every role logs in through the real login page and lands on its own home page."""

import pytest

from ..conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    "office",
    "police",
    "liaison_housing",
    "liaison_transport",
    "unit_head_housing",
    "leader",
    "discipline",
    "admin",
]


def test_public_landing_on_phone_and_desktop(new_page, campaign_data):
    for size in ("phone", "desktop"):
        page = new_page(size)
        page.goto("/")
        assert page.get_by_role("link", name="我要举报").is_visible()
        page.shot("landing")


@pytest.mark.parametrize("username", ROLES)
def test_each_role_logs_in_through_the_login_page(new_page, campaign_data, username):
    page = new_page("desktop")
    browser_login(page, username)
    assert page.url.endswith("/home/"), page.url
    assert page.locator(".role-badge").first.is_visible() or page.locator(".navbar-toggler").is_visible()
    page.shot(f"home-{username}")


def test_wrong_password_shows_a_clear_message(new_page, campaign_data):
    page = new_page("phone")
    page.goto("/accounts/login/")
    page.fill("#id_username", "office")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").is_visible()
    page.shot("login-error")
