"""Operational tasks: the worker heartbeat that /healthz reads."""

from celery import shared_task

from . import ops


@shared_task(name="campaign.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    ops.heartbeat_record()


@shared_task(name="campaign.tasks.ping", ignore_result=True)
def ping(token: str) -> None:
    """Used by tests and /healthz drills: proves a real worker consumed a message from Redis."""
    ops.ping_record(token)
