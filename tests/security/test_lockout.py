"""Lockout after repeated failures on every way in: login page, code step, enrolment, token endpoint."""

import pytest
from django.test import override_settings
from django.urls import reverse

from campaign import security
from campaign.demo import DEMO_PASSWORD
from campaign.models import AuditEntry, User
from campaign.roles import Role

from .conftest import allow_code_again, code_now

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
MESSAGE = "登录失败次数过多，账号已锁定，请 15 分钟后再试"


def _wrong_code() -> str:
    return "000000" if code_now() != "000000" else "111111"


def _fail_password(client, username: str, times: int):
    response = None
    for _i in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "wrong-password-1"})
    return response


def test_login_page_locks_after_five_wrong_passwords(client, users):
    for _i in range(4):
        response = _fail_password(client, "leader", 1)
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    response = _fail_password(client, "leader", 1)
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    # the right password does not get in while locked
    response = client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    lock = AuditEntry.objects.get(action="auth.lockout")
    assert lock.actor == users["leader"] and lock.data["scope"] == "user"


def test_lock_on_one_username_leaves_others_alone(client, users):
    _fail_password(client, "leader", 5)
    response = client.post(reverse("login"), {"username": "liaison_housing", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_unknown_usernames_are_locked_the_same_way(client, campaign_data):
    response = _fail_password(client, "nobody-here", 5)
    assert response.status_code == 429 and MESSAGE in response.content.decode()


def test_token_endpoint_locks_with_json_message(api_client, users):
    for _i in range(4):
        response = api_client.post(TOKEN, {"username": "police", "password": "x"}, format="json")
        assert response.status_code == 400
    response = api_client.post(TOKEN, {"username": "police", "password": "x"}, format="json")
    assert response.status_code == 429
    assert MESSAGE in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    response = api_client.post(
        TOKEN, {"username": "police", "password": DEMO_PASSWORD, "otp": code_now()}, format="json"
    )
    assert response.status_code == 429
    assert MESSAGE in response.json()["detail"]
    assert not AuditEntry.objects.filter(action="auth.token").exists()


def test_token_endpoint_counts_wrong_codes(api_client, users):
    for _i in range(4):
        response = api_client.post(
            TOKEN, {"username": "police", "password": DEMO_PASSWORD, "otp": _wrong_code()}, format="json"
        )
        assert response.status_code == 400
    response = api_client.post(
        TOKEN, {"username": "police", "password": DEMO_PASSWORD, "otp": _wrong_code()}, format="json"
    )
    assert response.status_code == 429


def test_code_step_locks_after_five_wrong_codes(client, users):
    client.post(reverse("login"), {"username": "office", "password": DEMO_PASSWORD})
    for _i in range(4):
        response = client.post(reverse("login-otp"), {"otp_token": _wrong_code()})
        assert response.status_code == 200
    response = client.post(reverse("login-otp"), {"otp_token": _wrong_code()})
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    allow_code_again("office")
    response = client.post(reverse("login-otp"), {"otp_token": code_now()})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.otp_failed", actor_name="office").count() == 5


def test_enrolment_step_counts_wrong_codes(client, units):
    user = User.objects.create(username="new_officer", role=Role.OFFICE, unit=units["office"])
    user.set_password(DEMO_PASSWORD)
    user.save()
    client.post(reverse("login"), {"username": "new_officer", "password": DEMO_PASSWORD})
    for _i in range(4):
        assert client.post(reverse("login-enrol"), {"otp_token": "123456"}).status_code == 200
    response = client.post(reverse("login-enrol"), {"otp_token": "123456"})
    assert response.status_code == 429 and MESSAGE in response.content.decode()


def test_failures_add_up_across_ways_in(client, api_client, users):
    _fail_password(client, "leader", 3)
    for _i in range(2):
        api_client.post(TOKEN, {"username": "leader", "password": "x"}, format="json")
    response = api_client.post(TOKEN, {"username": "leader", "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD})
    assert response.status_code == 429


def test_a_complete_login_resets_the_count(client, users):
    _fail_password(client, "leader", 4)
    assert client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    response = _fail_password(client, "leader", 4)
    assert response.status_code == 200


@override_settings(LOGIN_LOCKOUT={"IP_FAILURES": 3})
def test_one_address_trying_many_usernames_is_locked(client, users):
    for name in ("a-user", "b-user"):
        _fail_password(client, name, 1)
    response = _fail_password(client, "c-user", 1)
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert AuditEntry.objects.filter(action="auth.lockout", data__scope="ip").exists()
    # another address is not affected
    other = client.post(
        reverse("login"), {"username": "leader", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert other.status_code == 302


@override_settings(CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_behind_a_proxy_the_configured_header_is_the_address(rf):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.7")
    assert security.client_ip(request) == "203.0.113.7"


def test_message_gives_the_minutes_left():
    assert security.LockedOut(seconds=61).minutes == 2
    assert "2 分钟后再试" in security.LockedOut(seconds=61).message
    assert security.LockedOut(seconds=5).minutes == 1


def test_administrator_can_lift_a_lock(client, users):
    _fail_password(client, "leader", 5)
    assert security.lockout_is_locked(username="leader")
    admin_client = client.__class__()
    admin_client.force_login(users["admin"])
    response = admin_client.post(
        reverse("admin:campaign_user_changelist"),
        {"action": "unlock_login", "_selected_action": [users["leader"].pk]},
    )
    assert response.status_code == 302
    assert not security.lockout_is_locked(username="leader")
    assert AuditEntry.objects.filter(action="auth.unlocked", target_id=str(users["leader"].pk)).exists()
    assert client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD}).status_code == 302


def test_redis_down_lets_people_in_rather_than_locking_everyone_out(client, users, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    for name in ("get", "add", "incr", "set", "delete"):
        monkeypatch.setattr(cache, name, broken)
    response = _fail_password(client, "leader", 6)
    assert response.status_code == 200  # failures are not counted, but still refused
    assert client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD}).status_code == 302


def test_own_account_page_says_when_the_account_is_locked(client, users):
    _fail_password(client, "leader", 5)
    other = client.__class__()
    other.force_login(users["leader"])
    assert "account-locked" in other.get(reverse("account-security")).content.decode()
