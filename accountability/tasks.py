"""Thin Celery tasks: the accountability sweep and the nightly assessments. Safe to run twice."""

from celery import shared_task

from campaign import ops

from . import assessments, services


@shared_task(
    name="accountability.tasks.accountability_sweep", ignore_result=True, soft_time_limit=240, time_limit=300
)
def accountability_sweep() -> dict:
    """Beat, every 15 minutes: proposals from escalated assignments, overdue rectification and tasks."""
    counts = services.accountability_sweep()
    ops.periodic_record("accountability-sweep", **counts)
    return counts


@shared_task(
    name="accountability.tasks.assessments_compute_nightly",
    ignore_result=True,
    soft_time_limit=1500,
    time_limit=1800,
)
def assessments_compute_nightly() -> dict:
    """Beat, nightly: recompute this quarter's and year's assessments (and the previous quarter's)."""
    counts = assessments.assessments_compute_current()
    ops.periodic_record("assessments-nightly", **counts)
    return counts
