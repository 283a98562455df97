"""Fakes for the notification tests: a scripted email backend and a fake SMS gateway on loopback."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.mail.backends.base import BaseEmailBackend

GATEWAY_KEY = "test-gateway-key"


class ScriptedEmailBackend(BaseEmailBackend):
    """Each send takes the next step of `script`: an exception to raise, or None to deliver."""

    script: list = []
    sent: list = []
    calls = 0

    def send_messages(self, messages):
        ScriptedEmailBackend.calls += 1
        step = ScriptedEmailBackend.script.pop(0) if ScriptedEmailBackend.script else None
        if step is not None:
            raise step
        ScriptedEmailBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def scripted_email(settings):
    settings.EMAIL_BACKEND = "tests.notifications.conftest.ScriptedEmailBackend"
    ScriptedEmailBackend.script = []
    ScriptedEmailBackend.sent = []
    ScriptedEmailBackend.calls = 0
    return ScriptedEmailBackend


class FakeGateway:
    """An SMS gateway on 127.0.0.1 that checks the HMAC signature and answers from a script."""

    def __init__(self, key: str = GATEWAY_KEY):
        self.key = key
        self.script: list[int | tuple[str, float]] = []  # status codes, or ("sleep", seconds)
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = hmac.new(gateway.key.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(self.headers.get("X-Signature", ""), expected)
                payload = json.loads(body or b"{}")
                gateway.requests.append({"payload": payload, "signed": signed, "headers": dict(self.headers)})
                step = gateway.script.pop(0) if gateway.script else 200
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                if not signed:
                    step = 401
                if step == 200:
                    gateway.accepted.append(payload)
                    answer = {"id": f"gw-{len(gateway.accepted)}"}
                else:
                    answer = {"error": f"status {step}"}
                data = json.dumps(answer).encode()
                self.send_response(step)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_gateway():
    gateway = FakeGateway()
    yield gateway
    gateway.close()


@pytest.fixture
def gateway_settings(settings, fake_gateway):
    settings.SMS_BACKEND = "campaign.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = fake_gateway.url
    settings.SMS_GATEWAY_KEY = GATEWAY_KEY
    settings.SMS_GATEWAY_TIMEOUT = 2.0
    return settings


@pytest.fixture
def login(client, users):
    """client_as() for pages, with the session two-factor verified where the portal requires it."""
    from django.apps import apps

    def do(username: str):
        user = users[username]
        client.force_login(user)
        if apps.is_installed("django_otp"):
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(
                user=user, confirmed=True
            ).first() or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return do
