"""Two-factor login: required for office, police, discipline and admin; optional for the others."""

import re
import time

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from campaign import security
from campaign.demo import DEMO_PASSWORD
from campaign.models import AuditEntry, User
from campaign.roles import Role

from .conftest import allow_code_again, code_now, login_through_pages

pytestmark = pytest.mark.django_db

REQUIRED = ["office", "police", "discipline", "admin"]
OPTIONAL = ["liaison_housing", "leader", "unit_head_housing"]


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _new_user(username: str, role: str, unit=None) -> User:
    user = User.objects.create(username=username, role=role, unit=unit, display_name=username)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _codes(html: str) -> list[str]:
    listing = html.split('id="recovery-codes"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r">([a-z2-7]{4}-[a-z2-7]{4})<", listing)


def _enrol_through_page(client, username: str) -> tuple[str, list[str]]:
    """Password step, enrolment page, confirm with a code computed from the secret shown. Returns both."""
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("login-enrol")
    page = client.get(reverse("login-enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    response = client.post(reverse("login-enrol"), {"otp_token": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.content.decode()[:500]
    return secret, _codes(response.content.decode())


def test_the_roles_that_require_two_factor_login():
    assert {Role.OFFICE, Role.POLICE, Role.DISCIPLINE, Role.ADMIN} == security.OTP_REQUIRED_ROLES


@pytest.mark.parametrize("username", REQUIRED)
def test_password_alone_does_not_log_in_a_required_role(client, users, username):
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("login-otp")
    assert not _logged_in(client)
    assert client.get(reverse("home")).status_code == 302
    assert client.get("/api/v1/units/").status_code in (401, 403)
    page = client.get(reverse("login-otp"))
    assert 'id="id_otp_token"' in page.content.decode()


@pytest.mark.parametrize("username", REQUIRED)
def test_code_step_completes_the_login(client, users, username):
    response = login_through_pages(client, username)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/units/").status_code == 200


def test_code_step_goes_on_to_the_page_asked_for(client, users):
    client.post(
        reverse("login") + "?next=/ops/", {"username": "office", "password": DEMO_PASSWORD, "next": "/ops/"}
    )
    allow_code_again("office")
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response["Location"] == "/ops/"


def test_next_pointing_elsewhere_is_ignored(client, users):
    response = client.post(
        reverse("login"),
        {"username": "leader", "password": DEMO_PASSWORD, "next": "https://evil.example/steal"},
    )
    assert response["Location"] == reverse("home")


def test_wrong_code_keeps_the_user_out_with_an_error_on_the_field(client, users):
    client.post(reverse("login"), {"username": "office", "password": DEMO_PASSWORD})
    wrong = "000000" if code_now() != "000000" else "111111"
    response = client.post(reverse("login-otp"), {"otp_token": wrong})
    assert response.status_code == 200
    html = response.content.decode()
    assert "动态验证码不正确" in html
    assert 'id="id_otp_token"' in html and "is-invalid" in html
    assert not _logged_in(client)
    empty = client.post(reverse("login-otp"), {"otp_token": ""})
    assert "请输入动态验证码" in empty.content.decode()


def test_code_step_without_password_step_goes_back_to_login(client, users):
    response = client.get(reverse("login-otp"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response["Location"] == reverse("login")
    assert not _logged_in(client)


def test_half_way_login_expires(client, users):
    client.post(reverse("login"), {"username": "office", "password": DEMO_PASSWORD})
    session = client.session
    session[security.PENDING_SESSION_KEY]["at"] = time.time() - security.PENDING_MAX_AGE - 1
    session.save()
    allow_code_again("office")
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response["Location"] == reverse("login")
    assert not _logged_in(client)


def test_same_code_is_refused_the_second_time(client, users):
    login_through_pages(client, "office")
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "office", "password": DEMO_PASSWORD})
    # no reset of last_t: the code of this 30-second step was used already
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response.status_code == 200
    assert not _logged_in(client)


@pytest.mark.parametrize("username", OPTIONAL)
def test_optional_roles_log_in_with_password_only(client, users, username):
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert _logged_in(client)
    assert client.get(reverse("home")).status_code == 200


def test_optional_role_that_enrolled_must_give_a_code(client, users):
    client.force_login(users["liaison_housing"])
    page = client.get(reverse("login-enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    response = client.post(reverse("login-enrol"), {"otp_token": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": "liaison_housing", "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("login-otp")
    allow_code_again("liaison_housing")
    response = client.post(reverse("login-otp"), {"otp_token": pyotp.TOTP(secret).now()})
    assert response["Location"] == reverse("home")


def test_optional_role_can_turn_two_factor_off_but_a_required_role_cannot(client, users):
    liaison = users["liaison_housing"]
    client.force_login(liaison)
    page = client.get(reverse("login-enrol")).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    client.post(reverse("login-enrol"), {"otp_token": pyotp.TOTP(secret).now()})
    assert security.otp_enrolled(liaison)
    assert client.post(reverse("account-otp-disable")).status_code == 302
    assert not security.otp_enrolled(liaison)
    assert AuditEntry.objects.filter(action="auth.otp_disabled", actor=liaison).exists()

    client.force_login(users["office"])
    assert client.post(reverse("account-otp-disable")).status_code == 403
    assert security.otp_enrolled(users["office"])


def test_required_role_without_device_is_sent_to_enrolment_and_logged_in_after(client, units):
    user = _new_user("new_officer", Role.POLICE, units["police"])
    secret, codes = _enrol_through_page(client, "new_officer")
    assert len(codes) == security.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    assert _logged_in(client)
    assert client.get(reverse("home")).status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and security.totp_secret(device) == secret
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert AuditEntry.objects.filter(action="auth.otp_enrolled", actor=user).exists()
    # The codes are shown once: the enrolment page now sends to the code step instead.
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": "new_officer", "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("login-otp")
    assert client.get(reverse("login-enrol"))["Location"] == reverse("login-otp")


def test_enrolment_with_a_wrong_code_binds_nothing(client, units):
    user = _new_user("new_officer", Role.OFFICE, units["office"])
    client.post(reverse("login"), {"username": "new_officer", "password": DEMO_PASSWORD})
    response = client.post(reverse("login-enrol"), {"otp_token": "12345x"})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not _logged_in(client)
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()


def test_enrolment_page_needs_the_password_step(client, units):
    _new_user("new_officer", Role.OFFICE, units["office"])
    assert client.get(reverse("login-enrol"))["Location"] == reverse("login")


def test_recovery_code_logs_in_once(client, units):
    _new_user("new_officer", Role.DISCIPLINE, units["discipline"])
    _secret, codes = _enrol_through_page(client, "new_officer")
    client.post(reverse("logout"))

    client.post(reverse("login"), {"username": "new_officer", "password": DEMO_PASSWORD})
    response = client.post(reverse("login-otp"), {"otp_token": codes[0].upper()})  # typed in capitals
    assert response.status_code == 302 and _logged_in(client)
    entry = AuditEntry.objects.filter(action="auth.login", actor_name="new_officer").latest("at")
    assert entry.data["otp"] == "recovery_code" and entry.data["recovery_codes_left"] == 9
    client.post(reverse("logout"))

    client.post(reverse("login"), {"username": "new_officer", "password": DEMO_PASSWORD})
    response = client.post(reverse("login-otp"), {"otp_token": codes[0]})
    assert response.status_code == 200 and not _logged_in(client)
    response = client.post(reverse("login-otp"), {"otp_token": codes[1].replace("-", " ")})
    assert response.status_code == 302 and _logged_in(client)


def test_regenerating_recovery_codes_voids_the_old_ones(client, units):
    user = _new_user("new_officer", Role.ADMIN, units["office"])
    _secret, old_codes = _enrol_through_page(client, "new_officer")
    response = client.post(reverse("account-recovery-codes"))
    new_codes = _codes(response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert security.otp_match(user=user, token=old_codes[0]) is None
    assert security.otp_match(user=user, token=new_codes[0]) is not None


def test_unverified_session_of_a_required_role_is_refused(client, users):
    """A session made without the code step (here client.login) cannot reach staff pages or the API."""
    assert client.login(username="office", password=DEMO_PASSWORD)
    response = client.get("/api/v1/units/")
    assert response.status_code == 403
    assert "双因素认证" in response.json()["detail"]
    response = client.get(reverse("ops"))
    assert response.status_code == 302 and response["Location"] == reverse("login-otp")
    assert not _logged_in(client)
    # ... and the code step finishes what was started, landing on the page first asked for.
    allow_code_again("office")
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response["Location"] == reverse("ops")


def test_role_change_to_a_required_role_asks_for_two_factor_on_the_next_request(client, users, units):
    liaison = users["liaison_transport"]
    login_through_pages(client, "liaison_transport")
    assert client.get(reverse("home")).status_code == 200
    User.objects.filter(pk=liaison.pk).update(role=Role.OFFICE, unit=units["office"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("login-enrol")


def test_force_login_helper_marks_required_roles_verified(client_as):
    assert client_as("office").get(reverse("ops")).status_code == 200


def test_admin_login_goes_through_the_staff_login(client, users):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=/admin/" in response["Location"]


# --- token endpoint -------------------------------------------------------------------------------
TOKEN = "/api/v1/auth/token/"


def test_token_for_a_required_role_needs_the_code(api_client, users):
    response = api_client.post(TOKEN, {"username": "office", "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "otp" in body["errors"] and "验证码" in body["errors"]["otp"][0]
    assert "otp" in body["detail"]

    wrong = "000000" if code_now() != "000000" else "111111"
    response = api_client.post(
        TOKEN, {"username": "office", "password": DEMO_PASSWORD, "otp": wrong}, format="json"
    )
    assert response.status_code == 400 and "otp" in response.json()["errors"]
    assert not AuditEntry.objects.filter(action="auth.token").exists()


def test_token_with_the_code_is_issued_and_works(api_client, users):
    response = api_client.post(
        TOKEN, {"username": "police", "password": DEMO_PASSWORD, "otp": code_now()}, format="json"
    )
    assert response.status_code == 200, response.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/v1/units/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.token", actor_name="police").exists()


def test_token_with_a_recovery_code(api_client, units):
    user = _new_user("new_officer", Role.OFFICE, units["office"])
    security.otp_enrol_start(user=user)
    device = TOTPDevice.objects.get(user=user)
    codes = security.otp_enrol_confirm(
        user=user, token=pyotp.TOTP(security.totp_secret(device)).now(), request=None
    )[1]
    response = api_client.post(
        TOKEN, {"username": "new_officer", "password": DEMO_PASSWORD, "otp": codes[3]}, format="json"
    )
    assert response.status_code == 200
    response = api_client.post(
        TOKEN, {"username": "new_officer", "password": DEMO_PASSWORD, "otp": codes[3]}, format="json"
    )
    assert response.status_code == 400


def test_token_for_an_optional_role_needs_no_code(api_client, users):
    response = api_client.post(
        TOKEN, {"username": "liaison_housing", "password": DEMO_PASSWORD, "otp": ""}, format="json"
    )
    assert response.status_code == 200


def test_token_for_a_required_role_not_yet_enrolled_explains_what_to_do(api_client, units):
    _new_user("new_officer", Role.OFFICE, units["office"])
    response = api_client.post(
        TOKEN, {"username": "new_officer", "password": DEMO_PASSWORD, "otp": "123456"}, format="json"
    )
    assert response.status_code == 400
    assert "绑定身份验证器" in response.json()["errors"]["otp"][0]


def test_token_wrong_password_names_the_password_field(api_client, users):
    response = api_client.post(
        TOKEN, {"username": "office", "password": "nope", "otp": code_now()}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["password"]


def test_token_schema_documents_the_otp_field(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    body = schema["components"]["schemas"]["TokenRequestRequest"]["properties"]
    assert "otp" in body


def test_seed_enrols_required_demo_users_idempotently(users):
    first = security.demo_seed_otp()
    second = security.demo_seed_otp()
    assert second == {"totp_devices_created": 0}
    assert first["totp_devices_created"] == 0  # the campaign_data fixture seeded already
    enrolled = set(
        TOTPDevice.objects.filter(name=security.DEMO_DEVICE_NAME).values_list("user__username", flat=True)
    )
    assert {"office", "office_leader", "police", "discipline", "admin"} == enrolled
    device = TOTPDevice.objects.get(user__username="office", name=security.DEMO_DEVICE_NAME)
    assert security.totp_secret(device) == "JBSWY3DPEHPK3PXP"


def test_htmx_request_of_an_unverified_session_is_redirected_by_header(client, users):
    assert client.login(username="police", password=DEMO_PASSWORD)
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login-otp")
