"""My sessions, log out elsewhere, idle expiry, password change and password rules."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from campaign import security
from campaign.demo import DEMO_PASSWORD
from campaign.models import AuditEntry, UserSession

from .conftest import login_through_pages

pytestmark = pytest.mark.django_db

PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def _two_logins(username: str = "leader") -> tuple[Client, Client]:
    phone = Client(HTTP_USER_AGENT=PHONE_UA, REMOTE_ADDR="10.0.0.8")
    desktop = Client(HTTP_USER_AGENT=DESKTOP_UA)
    login_through_pages(phone, username)
    login_through_pages(desktop, username)
    return phone, desktop


def test_login_records_the_session_with_address_and_browser(users):
    phone, desktop = _two_logins()
    rows = UserSession.objects.filter(user=users["leader"])
    assert rows.count() == 2
    row = rows.get(session_key=phone.session.session_key)
    assert row.ip == "10.0.0.8" and "Android" in row.user_agent
    assert security.user_agent_summary(row.user_agent) == "Chrome 131 · Android"


def test_sessions_page_lists_both_and_marks_this_one(users):
    _phone, desktop = _two_logins()
    response = desktop.get(reverse("account-sessions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chrome 131 · Android" in html and "Chrome 131 · Windows" in html
    assert html.count("当前设备") == 1
    assert "退出其他 1 处登录" in html


def test_log_out_elsewhere_ends_the_other_session_and_the_token(users):
    phone, desktop = _two_logins("office")
    Token.objects.create(user=users["office"])
    assert phone.get(reverse("home")).status_code == 200
    response = desktop.post(reverse("account-sessions-end-others"))
    assert response.status_code == 302
    # the phone's session is gone: it is anonymous again
    assert phone.get(reverse("home")).status_code == 302
    assert not Session.objects.filter(session_key=phone.session.session_key).exists()
    assert desktop.get(reverse("home")).status_code == 200
    assert list(UserSession.objects.filter(user=users["office"]).values_list("session_key", flat=True)) == [
        desktop.session.session_key
    ]
    assert not Token.objects.filter(user=users["office"]).exists()
    entry = AuditEntry.objects.get(action="auth.sessions_revoked")
    assert entry.data == {"sessions": 1, "tokens": 1}


def test_ending_one_session(users):
    phone, desktop = _two_logins()
    row = UserSession.objects.get(session_key=phone.session.session_key)
    assert desktop.post(reverse("account-session-end", args=[row.pk])).status_code == 302
    assert phone.get(reverse("home")).status_code == 302
    assert desktop.get(reverse("home")).status_code == 200
    # this session cannot be "ended" from the list, and other users' sessions are not found
    own = UserSession.objects.get(session_key=desktop.session.session_key)
    desktop.post(reverse("account-session-end", args=[own.pk]))
    assert desktop.get(reverse("home")).status_code == 200
    other = Client()
    login_through_pages(other, "liaison_housing")
    theirs = UserSession.objects.get(user=users["liaison_housing"])
    assert desktop.post(reverse("account-session-end", args=[theirs.pk])).status_code == 404
    assert other.get(reverse("home")).status_code == 200


def test_logout_forgets_the_session(users):
    phone, _desktop = _two_logins()
    key = phone.session.session_key
    phone.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()


def test_sessions_page_hides_expired_sessions(users):
    phone, desktop = _two_logins()
    Session.objects.filter(session_key=phone.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    html = desktop.get(reverse("account-sessions")).content.decode()
    assert "Android" not in html
    assert UserSession.objects.filter(user=users["leader"]).count() == 1


def test_last_seen_moves_at_most_once_a_minute(users):
    _phone, desktop = _two_logins()
    row = UserSession.objects.get(session_key=desktop.session.session_key)
    first = row.last_seen
    desktop.get(reverse("home"))
    row.refresh_from_db()
    assert row.last_seen == first
    session = desktop.session
    session[security.SEEN_SESSION_KEY] -= 120
    session.save()
    desktop.get(reverse("home"))
    row.refresh_from_db()
    assert row.last_seen > first


def test_idle_session_expires(users):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    login_through_pages(client, "office")
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    Session.objects.filter(session_key=key).update(expire_date=before - dt.timedelta(minutes=10))
    client.get(reverse("home"))
    # activity pushes the expiry forward again ...
    assert Session.objects.get(session_key=key).expire_date > before - dt.timedelta(minutes=1)
    # ... and after 30 idle minutes the session is gone.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert client.get("/api/v1/units/").status_code in (401, 403)


def test_password_change_keeps_this_session_and_ends_the_others(users):
    phone, desktop = _two_logins("office")
    new_password = "another-long-pass-77"
    response = desktop.post(
        reverse("account-password"),
        {"old_password": DEMO_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302 and response["Location"] == reverse("account-security")
    assert desktop.get(reverse("home")).status_code == 200
    assert phone.get(reverse("home")).status_code == 302
    assert UserSession.objects.filter(user=users["office"]).get().session_key == desktop.session.session_key
    users["office"].refresh_from_db()
    assert users["office"].check_password(new_password)
    assert AuditEntry.objects.filter(action="auth.password_changed", actor=users["office"]).exists()


def test_password_change_errors_name_the_fields_and_change_nothing(users):
    client = Client()
    login_through_pages(client, "leader")
    response = client.post(
        reverse("account-password"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "old_password" in form.errors
    response = client.post(
        reverse("account-password"),
        {"old_password": DEMO_PASSWORD, "new_password1": "12345678901234", "new_password2": "12345678901234"},
    )
    assert "new_password2" in response.context["form"].errors
    html = response.content.decode()
    assert "is-invalid" in html
    users["leader"].refresh_from_db()
    assert users["leader"].check_password(DEMO_PASSWORD)


def test_password_rules_and_hashing(users):
    validate_password(DEMO_PASSWORD, users["office"])  # the documented demo password passes the rules
    for weak in ("short-pass", "123456789012345", "password1234"):
        with pytest.raises(ValidationError):
            validate_password(weak, users["office"])
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_security_page_shows_status(client_as):
    html = client_as("office").get(reverse("account-security")).content.decode()
    assert "已启用" in html and "不能关闭" in html
    html = client_as("leader").get(reverse("account-security")).content.decode()
    assert "启用双因素认证" in html
