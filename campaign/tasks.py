"""Campaign tasks: the worker heartbeat that /healthz reads, and the notification outbox."""

from celery import shared_task

from . import messaging, notifications, ops


@shared_task(name="campaign.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    ops.heartbeat_record()


@shared_task(name="campaign.tasks.ping", ignore_result=True)
def ping(token: str) -> None:
    """Used by tests and /healthz drills: proves a real worker consumed a message from Redis."""
    ops.ping_record(token)


@shared_task(
    bind=True,
    name="campaign.tasks.send_outbound",
    ignore_result=True,
    acks_late=True,
    # The attempt limit lives on the outbox row (OUTBOX_MAX_ATTEMPTS), not in Celery's retry counter.
    max_retries=None,
    soft_time_limit=60,
    time_limit=90,
)
def send_outbound(self, message_id: int) -> str:
    """Send one outbox email/SMS; retried (with backoff) only on transient errors."""
    result = messaging.outbound_send(message_id=message_id)
    if result.outcome == messaging.Outcome.RETRY:
        raise self.retry(countdown=result.retry_in)
    return result.outcome.value


@shared_task(name="campaign.tasks.outbox_sweep", ignore_result=True, soft_time_limit=50, time_limit=60)
def outbox_sweep() -> dict:
    """Beat, every minute: re-queue outbox messages whose task was lost."""
    counts = messaging.outbox_sweep()
    ops.periodic_record("outbox_sweep", **counts)
    return counts


@shared_task(name="campaign.tasks.send_daily_digest", ignore_result=True, soft_time_limit=240, time_limit=300)
def send_daily_digest() -> dict:
    """Beat, daily at 08:00: one summary email per unit head; a second run the same day sends nothing."""
    counts = notifications.digest_send_daily()
    ops.periodic_record("send_daily_digest", **counts)
    return counts
