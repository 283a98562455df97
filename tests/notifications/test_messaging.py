"""The outbox sender: retries on transient errors only, gives up after N tries, never sends twice."""

import datetime as dt
import smtplib
import threading
import time

import psycopg
import pytest
from django.db import connection, connections
from django.utils import timezone

from campaign import messaging
from campaign.messaging import Outcome
from campaign.models import OutboundMessage
from campaign.tasks import send_outbound


def _email(**kw) -> OutboundMessage:
    fields = {"channel": "email", "recipient": "liaison@saohei.local", "subject": "主题", "body": "正文"}
    return OutboundMessage.objects.create(**{**fields, **kw})


@pytest.mark.django_db
def test_sent_message_is_marked_and_not_sent_again(scripted_email):
    msg = _email()
    assert messaging.outbound_send(message_id=msg.pk).outcome == Outcome.SENT
    assert messaging.outbound_send(message_id=msg.pk).outcome == Outcome.SKIPPED
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.last_error) == ("sent", 1, "")
    assert msg.sent_at is not None
    assert len(scripted_email.sent) == 1
    assert scripted_email.sent[0].to == ["liaison@saohei.local"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("connection unexpectedly closed"),
        smtplib.SMTPConnectError(421, b"try later"),
        TimeoutError("timed out"),
        ConnectionRefusedError("refused"),
        smtplib.SMTPDataError(451, b"local error in processing"),
    ],
    ids=["disconnected", "connect", "timeout", "refused", "smtp-4xx"],
)
def test_transient_smtp_error_is_retried_then_sent(scripted_email, error):
    msg = _email()
    scripted_email.script = [error, error]
    # Eager apply runs the retries inline (countdown ignored): the task's retry wiring, not the clock.
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert msg.status == "sent"
    assert msg.attempts == 3
    assert scripted_email.calls == 3 and len(scripted_email.sent) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"x@y": (550, b"no such user")}),
        smtplib.SMTPAuthenticationError(535, b"bad credentials"),
        smtplib.SMTPDataError(554, b"rejected as spam"),
        ValueError("a bug, not a network problem"),
    ],
    ids=["recipient-refused", "auth", "smtp-5xx", "bug"],
)
def test_permanent_error_fails_without_retry(scripted_email, error):
    msg = _email()
    scripted_email.script = [error]
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert msg.status == "failed"
    assert msg.attempts == 1
    assert scripted_email.calls == 1
    assert error.__class__.__name__ in msg.last_error


@pytest.mark.django_db
def test_transient_errors_give_up_after_max_attempts(scripted_email, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    msg = _email()
    scripted_email.script = [smtplib.SMTPServerDisconnected("down")] * 5
    send_outbound.apply(args=[msg.pk])
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == ("failed", 3)
    assert "SMTPServerDisconnected" in msg.last_error
    assert scripted_email.calls == 3


@pytest.mark.django_db
def test_transient_result_carries_growing_backoff(scripted_email, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 100
    msg = _email()
    scripted_email.script = [TimeoutError()] * 3
    delays = [messaging.outbound_send(message_id=msg.pk).retry_in for _ in range(3)]
    assert delays == [30, 60, 100]
    msg.refresh_from_db()
    assert msg.status == "pending" and msg.attempts == 3


@pytest.mark.django_db
def test_message_claimed_by_another_worker_is_skipped(scripted_email):
    """Another session holds the claim (as a second worker would while sending): we skip, send nothing."""
    msg = _email()
    params = connection.get_connection_params()
    objid = (msg.pk % 2**32) - 2**31
    with psycopg.connect(
        **{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [messaging._LOCK_NAMESPACE, objid])
        assert messaging.outbound_send(message_id=msg.pk).outcome == Outcome.SKIPPED
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [messaging._LOCK_NAMESPACE, objid])
    assert scripted_email.calls == 0
    assert messaging.outbound_send(message_id=msg.pk).outcome == Outcome.SENT  # claim released


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_once(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_messaging.SlowBackend"
    SlowBackend.sent = 0
    msg = _email()
    outcomes = []

    def worker():
        try:
            outcomes.append(messaging.outbound_send(message_id=msg.pk).outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert SlowBackend.sent == 1
    assert sorted(outcomes) == sorted([Outcome.SENT] + [Outcome.SKIPPED] * 3)
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == ("sent", 1)


class SlowBackend:
    sent = 0
    _lock = threading.Lock()

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        time.sleep(0.5)  # long enough for the other workers to arrive while this one sends
        with self._lock:
            SlowBackend.sent += len(messages)
        return len(messages)


@pytest.mark.django_db
def test_missing_message_is_skipped():
    assert messaging.outbound_send(message_id=987654321).outcome == Outcome.SKIPPED


@pytest.mark.django_db
def test_sweep_requeues_lost_messages_but_respects_backoff(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 60
    now = timezone.now()

    def aged(seconds, **kw):
        msg = _email(**kw)
        OutboundMessage.objects.filter(pk=msg.pk).update(created_at=now - dt.timedelta(seconds=seconds))
        return msg.pk

    lost = aged(61)
    fresh = aged(30)
    backing_off = aged(80, attempts=1)  # first retry due at 30 s, sweep waits until 90 s
    overdue_retry = aged(95, attempts=1)
    aged(3600, status="sent")
    aged(3600, status="failed")
    assert set(messaging.outbox_due(now=now)) == {lost, overdue_retry}
    assert fresh not in messaging.outbox_due(now=now) and backing_off not in messaging.outbox_due(now=now)

    from campaign.tasks import send_outbound as task

    queued = []
    monkeypatch.setattr(task, "apply_async", lambda args, **kw: queued.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        assert messaging.outbox_sweep(now=now)["queued"] == 2
    assert set(queued) == {lost, overdue_retry}


@pytest.mark.django_db
def test_sweep_task_records_its_run(monkeypatch):
    from campaign import ops, tasks

    recorded = {}
    monkeypatch.setattr(ops, "periodic_record", lambda name, **counts: recorded.update({name: counts}))
    tasks.outbox_sweep.apply()
    assert recorded["outbox_sweep"]["queued"] == 0


@pytest.mark.django_db
def test_sweep_waits_while_the_mail_queue_has_a_backlog(monkeypatch):
    """Sends still waiting in the queue are late, not lost: the sweep must not pile copies on top."""
    aged = _email()
    OutboundMessage.objects.filter(pk=aged.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    monkeypatch.setattr(messaging, "_mail_backlog", lambda: messaging.SWEEP_MAX_BACKLOG)
    assert messaging.outbox_sweep() == {"queued": 0, "backlog": messaging.SWEEP_MAX_BACKLOG}


@pytest.mark.django_db
def test_requeue_gives_a_failed_message_new_attempts(scripted_email, django_capture_on_commit_callbacks):
    msg = _email(status="failed", attempts=5, last_error="SMTPRecipientsRefused")
    with django_capture_on_commit_callbacks() as callbacks:
        assert messaging.outbound_requeue(message_id=msg.pk) is True
    assert len(callbacks) == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.last_error) == ("pending", 0, "")
    assert messaging.outbound_requeue(message_id=msg.pk) is False  # only failed ones


def test_task_routes_and_beat_schedule():
    from django.conf import settings

    from config.celery import app

    router = app.amqp.router
    assert router.route({}, "campaign.tasks.send_outbound")["queue"].name == "mail"
    assert router.route({}, "campaign.tasks.send_daily_digest")["queue"].name == "mail"
    assert router.route({}, "campaign.tasks.outbox_sweep")["queue"].name == "default"
    beat = settings.CELERY_BEAT_SCHEDULE
    assert beat["outbox-sweep"]["schedule"] == 60.0
    digest = beat["daily-digest"]["schedule"]
    assert digest.hour == {8} and digest.minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
    for entry in ("outbox-sweep", "daily-digest"):
        assert beat[entry]["options"]["expires"] and beat[entry]["options"]["time_limit"]
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_SERIALIZER == "json" and settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {"default", "routing", "escalation", "mail"}
