"""Helpers for the login-security tests: codes from the demo secret, complete logins through the pages."""

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from campaign.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET


def code_now(secret: str = DEMO_TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def allow_code_again(username: str) -> None:
    """django-otp accepts each 30-second code once per device; a test logging in twice resets that."""
    TOTPDevice.objects.filter(user__username=username).update(last_t=-1)


def login_through_pages(client, username: str, *, password: str = DEMO_PASSWORD, code: str | None = None):
    """Password step, then the code step when the page asks for it. Returns the last response."""
    response = client.post(reverse("login"), {"username": username, "password": password})
    if response.status_code == 302 and response["Location"] == reverse("login-otp"):
        allow_code_again(username)
        response = client.post(reverse("login-otp"), {"otp_token": code or code_now()})
    return response


@pytest.fixture
def fresh_client():
    from django.test import Client

    return Client()
