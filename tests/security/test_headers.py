"""Security headers on public and staff pages and the API: CSP without inline scripts, framing, sniffing."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def _assert_strict(response):
    csp = _directives(response)
    script = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert script == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_public_pages_have_a_strict_policy_and_no_inline_script(client, campaign_data, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_strict(response)
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not EVENT_HANDLER.search(html)


@pytest.mark.parametrize(
    "name", ["home", "ops", "account-security", "account-sessions", "account-password", "login-enrol"]
)
def test_staff_pages_have_a_strict_policy_and_no_inline_script(client_as, name):
    response = client_as("office").get(reverse(name))
    assert response.status_code == 200, name
    _assert_strict(response)
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not EVENT_HANDLER.search(html)
    assert "no-store" in response["Cache-Control"]


def test_code_step_page_has_a_strict_policy(client, users):
    client.post(reverse("login"), {"username": "office", "password": "demo-pass-2026"})
    response = client.get(reverse("login-otp"))
    _assert_strict(response)
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_admin_and_api_have_the_policy_too(client_as):
    admin_client = client_as("admin")
    for path in ("/admin/", "/admin/campaign/auditentry/", "/api/v1/units/"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)


def test_api_docs_run_their_script_from_a_file_and_only_relax_inline_style(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    csp = _directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src-elem"] == ["'self'", "'unsafe-inline'"]
    script_url = re.search(r'<script src="([^"]*\?script=[^"]*)"', html).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_anonymous_pages_are_not_marked_no_store(client, campaign_data):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
