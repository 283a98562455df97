"""SMS backends: console, file, and the signed HTTP gateway (against a fake gateway on loopback)."""

import io
import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaign import messaging, sms
from campaign.models import OutboundMessage
from campaign.tasks import send_outbound

from .conftest import GATEWAY_KEY, FakeGateway


def _sms(**kw) -> OutboundMessage:
    return OutboundMessage.objects.create(
        **{"channel": "sms", "recipient": "13903911234", "body": "【焦作市扫黑办】请签收线索", **kw}
    )


@pytest.mark.django_db
def test_gateway_503_once_then_200_sends_once_after_a_retry(gateway_settings, fake_gateway):
    fake_gateway.script = [503, 200]
    msg = _sms()
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == ("sent", 2)
    assert len(fake_gateway.requests) == 2
    assert all(r["signed"] for r in fake_gateway.requests)
    assert len(fake_gateway.accepted) == 1
    sent = fake_gateway.accepted[0]
    assert sent["to"] == "13903911234" and sent["body"] == "【焦作市扫黑办】请签收线索"
    assert sent["ref"] == f"outbound-{msg.pk}"
    assert fake_gateway.requests[0]["headers"]["X-Request-Id"] == f"outbound-{msg.pk}"


@pytest.mark.django_db
def test_gateway_4xx_is_permanent(gateway_settings, fake_gateway):
    fake_gateway.script = [400]
    msg = _sms()
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == ("failed", 1)
    assert "HTTP 400" in msg.last_error
    assert len(fake_gateway.requests) == 1


@pytest.mark.django_db
def test_wrong_key_is_refused_by_the_gateway_and_not_retried(gateway_settings, fake_gateway):
    gateway_settings.SMS_GATEWAY_KEY = "not-the-shared-key"
    msg = _sms()
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert msg.status == "failed" and "HTTP 401" in msg.last_error
    assert fake_gateway.requests[0]["signed"] is False
    assert fake_gateway.accepted == []


@pytest.mark.django_db
def test_gateway_timeout_is_transient(gateway_settings, fake_gateway):
    gateway_settings.SMS_GATEWAY_TIMEOUT = 0.3
    fake_gateway.script = [("sleep", 1.0)]
    msg = _sms()
    result = messaging.outbound_send(message_id=msg.pk)
    assert result.outcome == messaging.Outcome.RETRY
    assert "TransientSmsError" in result.error
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == ("pending", 1)


def test_unreachable_gateway_is_transient():
    closed = FakeGateway()
    url = closed.url
    closed.close()  # nothing listens on the port now
    backend = sms.HttpGatewayBackend(url=url, key=GATEWAY_KEY, timeout=1)
    with pytest.raises(sms.TransientSmsError):
        backend.send(to="13900000000", body="x")


def test_gateway_backend_refuses_bad_configuration():
    with pytest.raises(ImproperlyConfigured):
        sms.HttpGatewayBackend(url="", key="k")
    with pytest.raises(ImproperlyConfigured):
        sms.HttpGatewayBackend(url="file:///etc/passwd", key="k")
    with pytest.raises(ImproperlyConfigured):
        sms.HttpGatewayBackend(url="http://127.0.0.1:1/", key="")


def test_signature_is_hmac_sha256_of_the_body():
    import hashlib
    import hmac

    body = b'{"to": "1", "body": "x"}'
    assert sms.sign("k", body) == hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_file_backend_writes_json_lines(tmp_path):
    backend = sms.FileBackend(path=tmp_path / "sms")
    backend.send(to="13900000001", body="第一条", ref="a")
    backend.send(to="13900000002", body="第二条", ref="b")
    (file,) = (tmp_path / "sms").iterdir()
    lines = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    assert [(x["to"], x["body"], x["ref"]) for x in lines] == [
        ("13900000001", "第一条", "a"),
        ("13900000002", "第二条", "b"),
    ]


def test_console_backend_prints():
    out = io.StringIO()
    sms.ConsoleBackend(stream=out).send(to="13900000003", body="控制台短信")
    assert "13900000003" in out.getvalue() and "控制台短信" in out.getvalue()


@pytest.mark.django_db
def test_backend_is_chosen_by_setting(settings, tmp_path):
    settings.SMS_BACKEND = "campaign.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    msg = _sms()
    assert messaging.outbound_send(message_id=msg.pk).outcome == messaging.Outcome.SENT
    assert "请签收线索" in next(tmp_path.iterdir()).read_text(encoding="utf-8")
