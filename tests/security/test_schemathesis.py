"""Fuzzing the public and staff API from its OpenAPI schema (schemathesis): no input makes a 5xx.

Every operation in /api/v1/schema/ gets generated requests that fit the schema (positive) and requests
that break it (negative), as the office user (token obtained with password + TOTP code) against the demo
data, with real object ids as well as generated ones. The requests go through the WSGI application in
this process, inside the test's transaction, so nothing is left behind. The run is bounded: a few
examples per operation and a total time budget (FUZZ_BUDGET_SECONDS); all server errors found are
reported together, each with the request and the server's traceback.
"""

import logging
import os
import time

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import get_resolver

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
BUDGET_SECONDS = float(os.environ.get("FUZZ_BUDGET_SECONDS", "150"))


class _ServerErrors(logging.Handler):
    """Collects the tracebacks Django logs for 5xx responses (django.request)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def take(self) -> str:
        text = "\n".join(
            self.format(r) if not r.exc_info else logging.Formatter().formatException(r.exc_info)
            for r in self.records
        )
        self.records.clear()
        return text


@pytest.fixture
def wsgi_app():
    """The real WSGI application, minus the per-request connection recycling the test client also
    turns off: it would close the connection holding the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_world(settings, tmp_path):
    """The demo data every page and endpoint works on (the seeders `seed_demo` runs)."""
    import io
    from contextlib import redirect_stdout

    from campaign import demo

    _ = get_resolver().url_patterns  # modules loaded with the URL map register seeders too (bulletins)
    settings.MEDIA_ROOT = tmp_path / "media"
    with redirect_stdout(io.StringIO()):
        for _order, _name, seeder in demo.seeders():
            seeder()


def _office_token(client) -> str:
    import pyotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from campaign.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

    TOTPDevice.objects.filter(user__username="office").update(last_t=-1)
    response = client.post(
        "/api/v1/auth/token/",
        json={"username": "office", "password": DEMO_PASSWORD, "otp": pyotp.TOTP(DEMO_TOTP_SECRET).now()},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["token"]


def _real_ids(path: str) -> list[dict]:
    """Path parameters naming objects that exist, so detail and action endpoints meet real rows."""
    from accountability.models import Action, Assessment
    from campaign.models import Notification, Region, Sector, Unit
    from leads.models import CallBack, Lead
    from reports.models import Tip

    if "{code}" in path:
        model = {"regions": Region, "sectors": Sector, "units": Unit}.get(path.split("/")[3])
        return [{"code": c} for c in model.objects.values_list("code", flat=True)[:3]] if model else []
    if "{id}" not in path:
        return []
    kind = path.split("/")[3]
    model = {
        "tips": Tip,
        "leads": Lead,
        "notifications": Notification,
        "assessments": Assessment,
        "accountability": Action,
        "callbacks": CallBack,
    }.get(kind)
    if model is None:
        return []
    return [{"id": pk} for pk in model.objects.order_by("-pk").values_list("pk", flat=True)[:3]]


def _fuzz(operation, strategies, headers, collector, failures, *, budget: float) -> None:
    """Up to EXAMPLES generated requests for one operation, stopping early past `budget` seconds."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    started = time.monotonic()

    @hsettings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        if time.monotonic() - started > budget:
            return
        response = case.call(headers=headers)
        if response.status_code < 500:
            return
        traceback_text = collector.take()
        # One example per operation is enough to act on; later ones would repeat its traceback.
        if not any(f.startswith(f"{operation.label} ") for f in failures):
            failures.append(
                f"{operation.label} -> {response.status_code}\n"
                f"  request: {case.as_curl_command(headers=headers)}\n"
                f"  traceback:\n{traceback_text}"
            )

    run()


def test_api_never_answers_with_a_server_error(wsgi_app, demo_world, settings):
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.python import wsgi

    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    token = _office_token(wsgi.get_client(wsgi_app))
    headers = {"Authorization": f"Token {token}", "Accept-Language": "zh-hans"}

    collector = _ServerErrors()
    request_log = logging.getLogger("django.request")
    request_log.addHandler(collector)
    failures: list[str] = []
    ran: list[str] = []
    started = time.monotonic()
    try:
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) >= 30, "the schema lost most of its operations"
        per_op_budget = BUDGET_SECONDS / len(operations)
        for operation in operations:
            if time.monotonic() - started > BUDGET_SECONDS * 1.2:
                failures.append(f"time budget used up before {operation.label}")
                break
            strategies = [
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            ]
            strategies += [
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=params)
                for params in _real_ids(operation.path)
            ]
            _fuzz(operation, strategies, headers, collector, failures, budget=per_op_budget * 2)
            ran.append(operation.label)
    finally:
        request_log.removeHandler(collector)
    assert not failures, f"{len(failures)} server errors:\n\n" + "\n\n".join(failures[:20])
    assert len(ran) == len(operations)
