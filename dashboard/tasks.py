"""Thin Celery tasks (queue default): rollup refreshes, export jobs, expired export clean-up."""

from celery import shared_task

from campaign import ops

from . import exports, rollups


@shared_task(name="dashboard.tasks.rollup_refresh", ignore_result=True, soft_time_limit=240, time_limit=300)
def rollup_refresh() -> dict:
    """Beat, every minute: bring the dashboard rollups up to date with what changed."""
    result = rollups.rollup_refresh_incremental().as_dict()
    ops.periodic_record("dashboard_rollup_refresh", **{k: v for k, v in result.items() if k != "mode"})
    return result


@shared_task(
    name="dashboard.tasks.rollup_refresh_full", ignore_result=True, soft_time_limit=1700, time_limit=1800
)
def rollup_refresh_full() -> dict:
    """Beat, nightly: rebuild the rollups from scratch (catches anything written behind the services' back)."""
    result = rollups.rollup_refresh_full().as_dict()
    ops.periodic_record("dashboard_rollup_full", **{k: v for k, v in result.items() if k != "mode"})
    return result


@shared_task(
    name="dashboard.tasks.export_run",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=exports.EXPORT_TIME_LIMIT - 60,
    time_limit=exports.EXPORT_TIME_LIMIT,
)
def export_run(job_id: str) -> str | None:
    job = exports.export_run(job_id=job_id)
    return job.status if job else None


@shared_task(name="dashboard.tasks.exports_expire", ignore_result=True, soft_time_limit=240, time_limit=300)
def exports_expire() -> int:
    """Beat, hourly: delete expired export files."""
    expired = exports.export_jobs_expire()
    ops.periodic_record("dashboard_exports_expire", expired=expired)
    return expired
