"""Thin periodic tasks: the nightly backup and the transfer between the zones."""

from celery import shared_task

from campaign import ops

from . import backup


# Acknowledged on receipt, unlike the project default: a backup outlives the broker's visibility timeout,
# and a redelivered copy would only hit the lock. A lost run is retried by the next night's beat, and the
# ops page and `backup --check-max-age` show its absence.
@shared_task(
    name="transfer.tasks.backup_run",
    ignore_result=True,
    acks_late=False,
    soft_time_limit=5 * 3600,
    time_limit=5 * 3600 + 600,
)
def backup_run() -> dict:
    """Beat, daily: one backup into BACKUP_DIR, then retention."""
    try:
        info = backup.backup_create()
    except backup.BackupError:
        ops.periodic_record("backup", ok=0)
        raise
    removed = backup.backup_prune()
    counts = {
        "ok": 1,
        "database_bytes": info.manifest["files"][backup.DUMP]["bytes"],
        "media_files": info.manifest["media"]["files"],
        "pruned": len(removed),
    }
    ops.periodic_record("backup", **counts)
    return {"name": info.name, **counts}


@shared_task(name="transfer.tasks.zone_transfer", ignore_result=True, soft_time_limit=240, time_limit=300)
def zone_transfer() -> dict:
    """Beat, every minute: on an internal node with ZONE_PUBLIC_URL, one exchange with the public node.
    Anywhere else it does nothing, so the one beat schedule serves every kind of installation."""
    from . import client, conf

    if conf.zone() != "internal" or not conf.get("ZONE_PUBLIC_URL"):
        return {"skipped": 1}
    try:
        counts = client.transfer_sync()
    except client.TransferError:
        ops.periodic_record("zone_transfer", ok=0)
        raise
    ops.periodic_record("zone_transfer", ok=1, **counts)
    return counts
