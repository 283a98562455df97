"""Thin Celery tasks for leads: routing of committed tips, the catch-up sweep and the escalation sweep.

Queues (config/settings/base.py CELERY_TASK_ROUTES): route_* on "routing", escalate_* on "escalation".
Every task is safe to run twice: the services lock rows and check what was already done.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaign import ops

from . import escalation, intake

# Transient database trouble (connection lost, deadlock victim, failover) is worth a retry; bugs are not.
TRANSIENT = (OperationalError, InterfaceError)


def on_tip_committed(sender, *, tip_id: int, **kwargs) -> None:
    """Receiver of reports.signals.tip_committed (connected in LeadsConfig.ready)."""
    intake.tip_route_enqueue(tip_id=tip_id)


@shared_task(
    name="leads.tasks.route_tip",
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
    soft_time_limit=50,
    time_limit=60,
)
def route_tip(tip_id: int) -> int:
    """Route a committed tip (with other waiting ones, intake.tip_route_batch): proposal, entity index,
    repeat-report check. A second delivery changes nothing. Returns how many tips it routed."""
    return intake.tip_route_batch(tip_id=tip_id)


@shared_task(name="leads.tasks.route_pending", ignore_result=True, soft_time_limit=240, time_limit=300)
def route_pending() -> dict:
    """Beat, every minute: route tips whose routing message was lost."""
    counts = intake.tip_route_pending()
    ops.periodic_record("route_pending", **counts)
    return counts


@shared_task(name="leads.tasks.escalate_overdue", ignore_result=True, soft_time_limit=240, time_limit=300)
def escalate_overdue() -> dict:
    """Beat, every five minutes: reminders, overdue notices, supervision and accountability levels."""
    counts = escalation.escalation_sweep()
    ops.periodic_record("escalate_overdue", **counts)
    return counts
