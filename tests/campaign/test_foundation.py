"""The foundation: settings, health, auth, API schema, reference data, a real Celery worker."""

import json
import subprocess
import sys
import uuid

import pytest
from django.urls import reverse

from campaign.models import AuditEntry, CalendarDay, Region, Sector, Unit, User

from ..conftest import ROOT, wait_for

pytestmark = pytest.mark.django_db


def test_seed_campaign_is_idempotent(campaign_data):
    from campaign.demo import seed_campaign

    counts = (Region.objects.count(), Unit.objects.count(), Sector.objects.count(), User.objects.count())
    seed_campaign()
    assert (
        Region.objects.count(),
        Unit.objects.count(),
        Sector.objects.count(),
        User.objects.count(),
    ) == counts
    assert Region.objects.filter(level="county").count() == 11
    for code in [
        "office",
        "police",
        "housing",
        "transport",
        "natural_resources",
        "agriculture",
        "market",
        "culture_tourism",
        "petition",
        "discipline",
    ]:
        assert Unit.objects.filter(code=code).exists(), code
    for username in [
        "office",
        "police",
        "liaison_housing",
        "liaison_transport",
        "unit_head_housing",
        "leader",
        "discipline",
        "admin",
    ]:
        assert User.objects.get(username=username).check_password("demo-pass-2026")


def test_calendar_is_seeded_by_migration():
    assert CalendarDay.objects.filter(date="2026-10-01", is_workday=False).exists()
    assert CalendarDay.objects.filter(date="2026-09-20", is_workday=True).exists()  # make-up Sunday


def test_root_is_public_landing_for_anonymous(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "我要举报" in response.content.decode()
    assert "工作人员登录" in response.content.decode()


def test_login_page_logs_in_and_lands_on_home(client, users):
    import pyotp

    from campaign.demo import DEMO_TOTP_SECRET

    response = client.post(reverse("login"), {"username": "office", "password": "demo-pass-2026"})
    assert response.status_code == 302
    # office requires two-factor login: the password step leads to the code step, not in.
    assert response["Location"] == reverse("login-otp")
    response = client.post(reverse("login-otp"), {"otp_token": pyotp.TOTP(DEMO_TOTP_SECRET).now()})
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert "工作台" in page.content.decode()


def test_wrong_password_shows_readable_error(client, users):
    response = client.post(reverse("login"), {"username": "office", "password": "nope"})
    assert response.status_code == 200
    assert "用户名" in response.content.decode()


def test_english_is_selectable(client, users):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


def test_healthz_reports_parts(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert set(body["workers"]["queues"]) == {"default", "routing", "escalation", "mail"}


def test_healthz_is_503_when_database_down(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False


def test_token_endpoint_issues_token_and_token_authenticates(api_client, users):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "leader", "password": "demo-pass-2026"}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/regions/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.token", actor_name="leader").exists()


def test_token_endpoint_bad_credentials_is_readable(api_client, users):
    response = api_client.post("/api/v1/auth/token/", {"username": "leader", "password": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "password" in body["errors"]
    assert body["detail"]


def test_malformed_json_is_a_readable_error(api_client):
    response = api_client.post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_api_requires_authentication(api_client, campaign_data):
    response = api_client.get("/api/v1/units/")
    assert response.status_code in (401, 403)
    assert response.json()["detail"]


def test_reference_data_api_is_paginated(api_as):
    body = api_as("office").get("/api/v1/units/").json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert any(u["code"] == "housing" for u in body["results"])


def test_openapi_schema_and_docs_work_offline(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "http://" not in html.replace("http://testserver", "") and "https://cdn" not in html


def test_audit_rows_cannot_be_changed_or_deleted(users):
    from django.db import DatabaseError, transaction

    from campaign.audit import audit_record

    entry = audit_record(actor=users["office"], action="test.action")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.action"


def test_pages_refuse_the_wrong_role(client_as):
    assert client_as("liaison_housing").get(reverse("ops")).status_code == 403
    assert client_as("office").get(reverse("ops")).status_code == 200


def test_anonymous_home_goes_to_public_site(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302


@pytest.mark.slow
def test_celery_task_runs_in_a_real_worker(celery_worker_process):
    """Not eager mode: a separate worker process consumes the message from Redis."""
    from campaign import ops
    from campaign.tasks import ping

    token = uuid.uuid4().hex
    celery_worker_process(queues="default")
    ping.apply_async(args=[token], queue="default")
    assert wait_for(lambda: ops.redis_client().get(f"ops:ping:{token}"), timeout=60)


def _run_manage(args, env_extra):
    import os

    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secrets_stops_with_one_clear_line():
    result = _run_manage(["check"], {"DJANGO_SETTINGS_MODULE": "config.settings.production"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_gives_one_clear_line():
    result = _run_manage(
        ["migrate", "--check"],
        {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere", "REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode != 0
    assert "127.0.0.1:1/nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_passes_with_full_production_environment():
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "IDENTITY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PIN_HASH_KEY": uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    result = _run_manage(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.dumps(result.returncode) == "0"
