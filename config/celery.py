"""The Celery application. Queues: routing, escalation, mail, default (so one cannot starve another)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Between tasks as between requests: close a connection past CONN_MAX_AGE or broken by an error
    (CELERY_DB_REUSE_MAX keeps Celery from closing every connection after every task). Not for a task
    run eagerly, inside its caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
