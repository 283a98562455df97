"""Thin Celery tasks for linking: indexing at intake (routing queue), the index sweep, case imports.

Every task is safe to run twice: indexing is idempotent per item, imports check their batch's status.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaign import ops

from . import imports, services

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
INDEX_QUEUE = "routing"  # next to routing: "a tip is linked within a minute of arriving"


def on_tip_committed(sender, *, tip_id: int, **kwargs) -> None:
    """Receiver of reports.signals.tip_committed (sent after commit; connected in LinkingConfig.ready)."""
    index_enqueue(kind="tip", item_id=tip_id)


def index_enqueue(*, kind: str, item_id: int) -> bool:
    """Queue indexing of a committed item. Never raises: with Redis down the index sweep catches it."""
    task = {"tip": index_tip, "lead": index_lead}[kind]
    try:
        task.apply_async(
            kwargs={f"{kind}_id": item_id},
            queue=INDEX_QUEUE,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:
        log.warning(
            "linking: could not queue %s %s; the index sweep will index it", kind, item_id, exc_info=True
        )
        return False
    return True


@shared_task(
    name="leads.linking.tasks.index_tip",
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=50,
    time_limit=60,
)
def index_tip(tip_id: int) -> int:
    """Index one tip's entities and alert watching units."""
    return services.entities_index_tip(tip_id=tip_id).entities


@shared_task(
    name="leads.linking.tasks.index_lead",
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=50,
    time_limit=60,
)
def index_lead(lead_id: int) -> int:
    return services.entities_index_lead(lead_id=lead_id).entities


@shared_task(name="leads.linking.tasks.index_sweep", ignore_result=True, soft_time_limit=50, time_limit=60)
def index_sweep() -> dict:
    """Beat, every minute: index new leads and tips whose message was lost."""
    counts = services.entities_index_sweep()
    ops.periodic_record("linking_index_sweep", **counts)
    return counts


@shared_task(
    name="leads.linking.tasks.case_import_validate",
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    max_retries=3,
    soft_time_limit=1700,
    time_limit=1800,
)
def case_import_validate(import_id: int) -> str:
    return imports.case_import_validate(import_id=import_id).status


@shared_task(
    name="leads.linking.tasks.case_import_run",
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    max_retries=3,
    soft_time_limit=1700,
    time_limit=1800,
)
def case_import_run(import_id: int) -> str:
    return imports.case_import_run(import_id=import_id).status
