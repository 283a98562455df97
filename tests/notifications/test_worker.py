"""A real Celery worker delivers outbox mail (file backend) and SMS (fake gateway, one 503 then 200)."""

import datetime as dt
import email
import time

import pytest
from django.utils import timezone

from campaign.models import OutboundMessage
from campaign.notifications import notify

from ..conftest import wait_for
from .conftest import GATEWAY_KEY


@pytest.mark.slow
def test_worker_sends_email_and_retries_sms_once(celery_worker_process, users, fake_gateway, tmp_path):
    maildir = tmp_path / "mail"
    maildir.mkdir()
    fake_gateway.script = [503, 200]
    celery_worker_process(
        queues="mail,default",
        extra_env={
            "TEST_EMAIL_URL": f"filemail:///{maildir}",  # four slashes: an absolute path
            "SMS_BACKEND": "campaign.sms.HttpGatewayBackend",
            "SMS_GATEWAY_URL": fake_gateway.url,
            "SMS_GATEWAY_KEY": GATEWAY_KEY,
            "OUTBOX_RETRY_BASE_SECONDS": "1",
        },
    )
    user = users["liaison_housing"]
    # Outside a test transaction (transactional_db): notify commits and queues on commit, as in production.
    result = notify(
        users=[user],
        kind="lead.assigned",
        title="请签收交办线索 JZ2026-0042",
        url="/home/",
        sms=True,
        dedupe_key="worker-test:1",
    )
    assert len(result.outbound_ids) == 2

    def all_done():
        rows = OutboundMessage.objects.filter(pk__in=result.outbound_ids)
        return all(m.status != "pending" for m in rows) and list(rows)

    rows = {m.channel: m for m in wait_for(all_done, timeout=90, interval=0.3)}
    assert rows["email"].status == "sent", rows["email"].last_error
    assert rows["sms"].status == "sent", rows["sms"].last_error
    assert rows["email"].attempts == 1
    assert rows["sms"].attempts == 2  # 503 first, then accepted after the backoff

    files = list(maildir.iterdir())
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes().split(b"\n" + b"-" * 79)[0])
    assert message["To"] == user.email
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert "请签收交办线索 JZ2026-0042" in subject

    assert [r["signed"] for r in fake_gateway.requests] == [True, True]
    assert len(fake_gateway.accepted) == 1
    assert fake_gateway.accepted[0]["to"] == user.phone

    # Delivering the same message again (a duplicate task) sends nothing more.
    from campaign.tasks import outbox_sweep, send_outbound

    send_outbound.apply_async(args=[rows["sms"].pk])
    time.sleep(2)
    assert len(fake_gateway.requests) == 2
    assert len(list(maildir.iterdir())) == 1

    # A message whose task was lost (Redis down at commit) is sent by the outbox sweep.
    lost = OutboundMessage.objects.create(
        channel="email", recipient="lost@saohei.local", subject="补发", body="x"
    )
    OutboundMessage.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    outbox_sweep.apply_async()
    wait_for(lambda: OutboundMessage.objects.get(pk=lost.pk).status == "sent", timeout=60, interval=0.3)
    assert len(list(maildir.iterdir())) == 2
