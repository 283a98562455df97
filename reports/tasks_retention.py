"""Periodic retention sweep (beat, daily): purge identity and attachments of long-concluded tips."""

from celery import shared_task

from .retention import tips_purge_expired

# One run handles at most this many batches (200 tips each); the rest waits for the next day's run.
MAX_BATCHES_PER_RUN = 250


@shared_task(name="reports.tasks_retention.purge_expired", ignore_result=True, acks_late=True)
def purge_expired() -> dict:
    """Safe to run twice or concurrently: purged tips never match again, batches skip locked rows."""
    report = tips_purge_expired(max_batches=MAX_BATCHES_PER_RUN)
    return {"tips": report.tips, "attachments": report.attachments, "batches": report.batches}
