"""Shared fixtures: reference data, users per role, a real Celery worker, a browser."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def campaign_data(db):
    """Regions, units, sectors and one demo user per role (the same data `seed_demo` starts from)."""
    from campaign.demo import seed_campaign
    from campaign.models import Region, Sector, Unit, User

    seed_campaign()
    # Demo users of roles that require two-factor login get the demo TOTP secret, as `seed_demo` does.
    from campaign.security import demo_seed_otp

    demo_seed_otp()
    return {
        "regions": {r.code: r for r in Region.objects.all()},
        "units": {u.code: u for u in Unit.objects.all()},
        "sectors": {s.code: s for s in Sector.objects.all()},
        "users": {u.username: u for u in User.objects.all()},
    }


@pytest.fixture
def users(campaign_data):
    return campaign_data["users"]


@pytest.fixture
def units(campaign_data):
    return campaign_data["units"]


@pytest.fixture
def sectors(campaign_data):
    return campaign_data["sectors"]


@pytest.fixture
def regions(campaign_data):
    return campaign_data["regions"]


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def mark_otp_verified(client, user) -> None:
    """Mark a test client's session as verified by a second factor (what the code step does after login),
    so required-role sessions pass campaign.middleware.OTPRequiredMiddleware."""
    import django_otp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from campaign.demo import DEMO_TOTP_SECRET
    from campaign.security import otp_required

    if not otp_required(user):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        import base64

        key = base64.b32decode(DEMO_TOTP_SECRET).hex()
        device = TOTPDevice.objects.create(user=user, name="测试身份验证器", key=key, confirmed=True)
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch):
    """client.force_login(user) (and client_as) stands for a complete login, second factor included.
    A test that needs a session without the second factor uses client.login(username=…, password=…)."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        mark_otp_verified(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _login_lockouts_cleared():
    """Failed-login counters live in Redis across tests; every test starts without locks."""
    try:
        from campaign.security import lockout_clear_all

        lockout_clear_all()
    except Exception:  # noqa: S110 — tests without Redis do not log in
        pass


@pytest.fixture
def client_as(client, users):
    """Log the Django test client in as a demo user: client_as("office")."""

    def login(username: str):
        client.force_login(users[username])
        return client

    return login


@pytest.fixture
def api_as(api_client, users):
    def login(username: str):
        api_client.force_authenticate(users[username])
        return api_client

    return login


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process on the test database and Redis (no eager mode).

    Yields a function that starts it (so a test can start, kill and restart it) and stops it afterwards.
    """
    procs: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }

    def start(queues: str = "default,routing,escalation,mail", extra_env: dict | None = None):
        log = open(ROOT / "var" / f"test-worker-{uuid.uuid4().hex[:8]}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queues,
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env={**env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy; returns its value or fails the test with a message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


# --- browser tests -------------------------------------------------------------------------------
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """new_page("phone") -> a Playwright page at that viewport, with page.shot(name) for screenshots."""
    contexts = []

    def make(size: str = "desktop", locale: str = "zh-CN"):
        context = chromium.new_context(viewport=VIEWPORTS[size], locale=locale, base_url=live_server.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()

        def shot(name: str) -> Path:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"{name}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
            return path

        page.shot = shot
        return page

    yield make
    for context in contexts:
        context.close()


def browser_login(page, username: str, password: str = "demo-pass-2026") -> None:
    """Log in through the real login page (and the one-time-code step, where the role requires it)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if page.locator("#id_otp_token").count():
        import pyotp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from campaign.demo import DEMO_TOTP_SECRET

        # django-otp refuses a code twice in its 30-second window; a test may log the same user in again.
        TOTPDevice.objects.filter(user__username=username).update(last_t=-1)
        page.fill("#id_otp_token", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.click("button[type=submit]")
    page.wait_for_load_state()
