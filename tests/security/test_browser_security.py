"""In a real browser: enrol an authenticator for a fresh user, log in with a computed code, see the
sessions page end another session, and no page trips the Content-Security-Policy."""

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from campaign.demo import DEMO_PASSWORD
from campaign.models import User
from campaign.roles import Role

from ..conftest import SCREENSHOTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_csp(page) -> list[str]:
    violations: list[str] = []

    def on_console(msg):
        text = msg.text
        if "Content Security Policy" in text or "Refused to" in text:
            violations.append(f"{page.url}: {text}")

    page.on("console", on_console)
    return violations


def _report(violations: list[str]) -> str:
    return "\n".join(violations)


def _new_officer(username: str, units) -> User:
    user = User.objects.create(
        username=username, role=Role.OFFICE, unit=units["office"], display_name="新同事"
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_fresh_user_enrols_an_authenticator_and_logs_in_with_a_code(new_page, units, size):
    username = f"new_officer_{size}"
    _new_officer(username, units)
    page = new_page(size)
    violations = _watch_csp(page)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto("/accounts/login/")
    page.shot("security-login")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/enrol/")
    assert page.locator(".qr-box svg").is_visible()
    page.shot("security-enrol")
    secret = page.locator("#otp-secret").get_attribute("data-secret")
    assert secret and page.locator("#otp-secret").inner_text().replace(" ", "") == secret
    page.fill("#id_enrol_token", pyotp.TOTP(secret).now())
    page.click("#enrol-submit")
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    page.shot("security-recovery-codes")
    page.click("#codes-saved")
    page.wait_for_url("**/home/")

    # A second device: password, then the code step with a code computed from the secret.
    other = new_page(size)
    violations += _watch_csp(other)
    other.on("dialog", lambda dialog: dialog.accept())
    other.goto("/accounts/login/")
    other.fill("#id_username", username)
    other.fill("#id_password", DEMO_PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url("**/accounts/login/code/")
    other.shot("security-otp-step")
    TOTPDevice.objects.filter(user__username=username).update(last_t=-1)  # same 30 s window as enrolment
    other.fill("#id_otp_token", pyotp.TOTP(secret).now())
    other.click("button[type=submit]")
    other.wait_for_url("**/home/")

    # My sessions lists both; "log out elsewhere" ends the first browser's session.
    other.goto("/accounts/sessions/")
    assert other.locator("#session-list .card").count() == 2
    other.shot("security-sessions")
    with other.expect_navigation():
        other.click("#end-others")  # after the confirm dialog
    assert other.locator("#session-list .card").count() == 1
    page.goto("/home/")
    assert not page.url.endswith("/home/")  # logged out: sent to the public site
    other.goto("/accounts/security/")
    other.shot("security-account")
    assert violations == [], _report(violations)


def test_wrong_codes_lock_with_a_clear_message(new_page, campaign_data):
    page = new_page("phone")
    page.goto("/accounts/login/")
    page.fill("#id_username", "police")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/login/code/")
    wrong = "000000" if pyotp.TOTP("JBSWY3DPEHPK3PXP").now() != "000000" else "111111"
    for _i in range(4):
        page.fill("#id_otp_token", wrong)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.locator(".invalid-feedback").is_visible()
    page.shot("security-otp-error")
    page.fill("#id_otp_token", wrong)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "请 15 分钟后再试" in page.locator("#lockout-message").inner_text()
    page.shot("security-lockout")


def test_no_page_violates_the_content_security_policy(new_page, campaign_data):
    page = new_page("desktop")
    violations = _watch_csp(page)
    page.goto("/")
    browser_login(page, "admin")
    assert page.url.endswith("/home/")
    for path in ("/home/", "/ops/", "/accounts/security/", "/accounts/sessions/", "/accounts/password/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    page.goto("/admin/campaign/auditentry/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#audit-export").is_visible()
    page.shot("security-audit-admin")
    page.goto("/api/v1/docs/")
    page.locator(".swagger-ui .info").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "security-api-docs-desktop.png"))  # the top is enough
    # the Bootstrap dropdown (user menu) works without inline script
    page.goto("/home/")
    page.click(".navbar .dropdown-toggle")
    assert page.locator("a.dropdown-item[href='/accounts/sessions/']").is_visible()
    assert violations == [], _report(violations)
