"""The outbox: email and SMS written with what caused them, sent afterwards outside any transaction.

Writers call `outbound_enqueue` (or `campaign.notifications.notify`) inside their own transaction; after
commit a `send_outbound` task calls `outbound_send`, which claims the row, sends it and marks it. The
`outbox_sweep` beat re-enqueues rows whose task was lost (Redis down, worker killed), so the message
table, not the broker, is the source of truth.

Claiming uses a PostgreSQL session advisory lock keyed by the row id: it is held only while this
process sends, needs no open transaction around the network I/O, and vanishes with the connection if
the worker dies, leaving the row pending for the sweep. Two workers given the same id: one sends, the
other skips. Delivery is at-least-once in one case only: a worker killed after the server accepted the
message but before the row was marked sent.
"""

import datetime as dt
import enum
import hashlib
import logging
import smtplib
import socket
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, models, transaction
from django.utils import timezone

from . import sms
from .models import OutboundMessage

logger = logging.getLogger(__name__)

# Distinguishes our advisory locks from any other feature's (two-int form: namespace, id).
_LOCK_NAMESPACE = 0x6F627831  # "obx1"

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    TimeoutError,  # socket.timeout is an alias
    ConnectionError,
    socket.gaierror,  # DNS hiccup on the way to the SMTP relay
    SoftTimeLimitExceeded,
    sms.TransientSmsError,
)


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # already sent or failed, gone, or being sent by another worker
    RETRY = "retry"  # transient error; try again after `retry_in` seconds
    FAILED = "failed"  # permanent error or attempts exhausted; not retried


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    retry_in: int = 0
    error: str = ""


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: connection and timeout trouble, SMTP 4xx replies, gateway 5xx/429."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    code = getattr(exc, "smtp_code", None)
    return isinstance(exc, smtplib.SMTPResponseException) and isinstance(code, int) and 400 <= code < 500


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed tries (exponential, capped).

    The cap stays below the broker's visibility timeout, so a countdown retry is never redelivered early.
    """
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS))


def scoped_key(key: str, *parts: object) -> str:
    """A dedupe key for one recipient/channel that fits the 200-character column."""
    scoped = ":".join([key, *(str(p) for p in parts)])
    if len(scoped) <= 200:
        return scoped
    return f"{scoped[:150]}#{hashlib.sha256(scoped.encode()).hexdigest()[:40]}"


def insert_new_rows(model: type[models.Model], objs: Sequence[models.Model], returning: Sequence[str]):
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows actually inserted, as tuples of `returning`.

    bulk_create(ignore_conflicts=True) cannot say which rows were new; a caller that must act only on
    new rows (send one email per dedupe key) needs this.
    """
    if not objs:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    ret = ", ".join(qn(model._meta.get_field(name).column) for name in returning)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    out: list[tuple] = []
    for start in range(0, len(objs), 500):
        chunk = objs[start : start + 500]
        params: list = []
        for obj in chunk:
            params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
        sql = (
            f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608 — names from model meta
            f"VALUES {', '.join([placeholder] * len(chunk))} ON CONFLICT DO NOTHING RETURNING {ret}"
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            out.extend(cur.fetchall())
    return out


# --- writes inside the caller's transaction ------------------------------------------------------
@dataclass(frozen=True)
class Outgoing:
    """One message to put in the outbox."""

    channel: str
    recipient: str
    body: str
    subject: str = ""
    dedupe_key: str | None = None


def outbound_enqueue_many(*, messages: Iterable[Outgoing]) -> list[int]:
    """Write outbox rows in the caller's transaction and send them after commit.

    A message whose dedupe_key is already in the outbox is skipped; returns the ids of new rows only.
    """
    objs = [
        OutboundMessage(
            channel=m.channel,
            recipient=m.recipient.strip()[:200],
            subject=m.subject[:200],
            body=m.body,
            dedupe_key=m.dedupe_key,
        )
        for m in messages
        if m.recipient and m.recipient.strip()
    ]
    for obj in objs:
        if obj.channel not in OutboundMessage.Channel.values:
            raise ValueError(f"unknown channel {obj.channel!r}")
    ids = [row[0] for row in insert_new_rows(OutboundMessage, objs, returning=["id"])]
    enqueue_after_commit(ids)
    return ids


def outbound_enqueue(
    *, channel: str, recipient: str, body: str, subject: str = "", dedupe_key: str | None = None
) -> int | None:
    """One outbox row (email or SMS); returns its id, or None when the dedupe_key was already used."""
    ids = outbound_enqueue_many(
        messages=[
            Outgoing(channel=channel, recipient=recipient, body=body, subject=subject, dedupe_key=dedupe_key)
        ]
    )
    return ids[0] if ids else None


def enqueue_after_commit(ids: Sequence[int]) -> None:
    """Queue `send_outbound` for each id once the transaction commits (immediately outside one)."""
    if not ids:
        return
    ids = list(ids)

    def publish() -> None:
        from .tasks import send_outbound

        for pk in ids:
            try:
                # No publish retries: with Redis down the request must not hang; the sweep sends later.
                send_outbound.apply_async(args=[pk], retry=False)
            except Exception:
                logger.warning(
                    "outbox: could not queue message %s; the sweep will send it", pk, exc_info=True
                )
                return

    transaction.on_commit(publish, robust=True)


@transaction.atomic
def outbound_requeue(*, message_id: int) -> bool:
    """Give a failed message a fresh set of attempts (after the office fixed an address or the relay)."""
    changed = OutboundMessage.objects.filter(pk=message_id, status=OutboundMessage.Status.FAILED).update(
        status=OutboundMessage.Status.PENDING, attempts=0, last_error=""
    )
    if changed:
        enqueue_after_commit([message_id])
    return bool(changed)


# --- sending, outside transactions ---------------------------------------------------------------
@contextmanager
def _claim(message_id: int):
    objid = (message_id % 2**32) - 2**31  # the int4 half of the two-key advisory lock
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, objid])
        got = cur.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, objid])
            except Exception:  # a broken connection released the lock already
                logger.warning("outbox: could not release claim on %s", message_id, exc_info=True)


def _deliver(message: OutboundMessage) -> None:
    if message.channel == OutboundMessage.Channel.EMAIL:
        EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"X-Portal-Message": str(message.pk)},
        ).send(fail_silently=False)
    elif message.channel == OutboundMessage.Channel.SMS:
        sms.get_backend().send(to=message.recipient, body=message.body, ref=f"outbound-{message.pk}")
    else:
        raise ValueError(f"unknown channel {message.channel!r}")


def outbound_send(*, message_id: int) -> SendResult:
    """Send one outbox message if it is still pending. Safe to call twice or from two workers at once.

    Call it outside a transaction: the row is claimed and marked in short statements, never held
    across the SMTP or HTTP exchange.
    """
    pending = OutboundMessage.Status.PENDING
    with _claim(message_id) as claimed:
        if not claimed:
            return SendResult(Outcome.SKIPPED)
        message = OutboundMessage.objects.filter(pk=message_id, status=pending).first()
        if message is None:
            return SendResult(Outcome.SKIPPED)
        attempts = message.attempts + 1
        # Counted before the I/O, so a worker that dies mid-send still uses up an attempt.
        OutboundMessage.objects.filter(pk=message_id).update(attempts=attempts)
        try:
            _deliver(message)
        except Exception as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if is_transient(exc) and attempts < settings.OUTBOX_MAX_ATTEMPTS:
                OutboundMessage.objects.filter(pk=message_id).update(last_error=error)
                delay = retry_delay(attempts)
                logger.info(
                    "outbox: message %s attempt %s failed (%s); retry in %ss",
                    message_id,
                    attempts,
                    error,
                    delay,
                )
                return SendResult(Outcome.RETRY, retry_in=delay, error=error)
            OutboundMessage.objects.filter(pk=message_id).update(
                status=OutboundMessage.Status.FAILED, last_error=error
            )
            logger.error("outbox: message %s failed after %s attempt(s): %s", message_id, attempts, error)
            return SendResult(Outcome.FAILED, error=error)
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        return SendResult(Outcome.SENT)


def outbox_due(*, now=None, limit: int = 500) -> list[int]:
    """Pending messages whose task looks lost: older than a minute past their expected next try."""
    now = now or timezone.now()
    grace = settings.OUTBOX_SWEEP_GRACE_SECONDS
    due = models.Q()
    waited = 0
    # A row with k failed tries is expected again after the sum of the first k backoffs; only rows
    # past that (plus grace) are re-queued, so the sweep does not cut a retry's backoff short.
    # A row at the attempt limit is still pending only when its worker died mid-send: one last try.
    last = settings.OUTBOX_MAX_ATTEMPTS
    for attempts in range(last + 1):
        if attempts:
            waited += retry_delay(attempts)
        count = models.Q(attempts__gte=attempts) if attempts == last else models.Q(attempts=attempts)
        due |= count & models.Q(created_at__lt=now - dt.timedelta(seconds=waited + grace))
    return list(
        OutboundMessage.objects.filter(due, status=OutboundMessage.Status.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


# While this many sends wait in the mail queue the tasks are late, not lost: re-queuing would pile up.
SWEEP_MAX_BACKLOG = 200


def _mail_backlog() -> int:
    from . import ops

    try:
        return int(ops.redis_client().llen("mail"))
    except Exception:  # Redis down: queuing fails anyway; let the sweep try and log
        return 0


def outbox_sweep(*, now=None, limit: int = 500) -> dict:
    """Re-queue lost messages (bounded batch). Duplicates are harmless: `outbound_send` claims first."""
    backlog = _mail_backlog()
    if backlog >= SWEEP_MAX_BACKLOG:
        return {"queued": 0, "backlog": backlog}
    ids = outbox_due(now=now, limit=limit)
    enqueue_after_commit(ids)
    return {"queued": len(ids), "backlog": backlog}
