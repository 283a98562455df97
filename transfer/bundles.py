"""Air-gapped transfer: the same exchange as over HTTP, carried as signed, encrypted bundle files.

    public node:   manage.py transfer export --out to-internal.bundle   (waiting sealed submissions,
                   and which office bundles it has applied)
    internal side: manage.py transfer import to-internal.bundle         (imports each submission once)
                   manage.py transfer export --out to-public.bundle     (acknowledgements, published status
                   and messages, the current sealing key)
    public node:   manage.py transfer import to-public.bundle           (deletes what was acknowledged)

A bundle is imported at most once (its id is remembered), must be meant for the importing zone, and
must be recent. Acknowledgements travel in the next bundle back, so a lost file loses nothing: the
submissions stay on the public node and are exported again; publications are re-sent until the public
node reports the bundle that carried them as applied.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import conf, crypto, internal, public
from .models import ImportedSubmission, TransferLog

MAX_AGE = dt.timedelta(days=30)
ACK_WINDOW = dt.timedelta(days=30)


class BundleError(Exception):
    """A bundle that is refused (message in Chinese)."""


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def bundle_export(*, out: Path) -> dict:
    zone = conf.zone()
    bundle_id = str(uuid.uuid4())
    payload = {"bundle_id": bundle_id, "created_at": timezone.now().isoformat()}
    if zone == "public":
        collected = public.submissions_collect(limit=500, max_bytes=2**40)
        applied = TransferLog.objects.filter(
            action=TransferLog.Action.IMPORT, ok=True, at__gte=timezone.now() - ACK_WINDOW
        ).values_list("detail__bundle_id", flat=True)
        payload |= {
            "direction": "to_internal",
            "submissions": collected["submissions"],
            "applied": list(applied),
        }
        counts = {"submissions": len(collected["submissions"]), "waiting": collected["waiting"]}
        marks = []
    elif zone == "internal":
        acks = ImportedSubmission.objects.filter(imported_at__gte=timezone.now() - ACK_WINDOW).values_list(
            "submission_id", flat=True
        )
        publications, marks = internal.publications_collect(limit=5000)
        payload |= {"direction": "to_public", "ack_ids": [str(a) for a in acks], "publications": publications}
        counts = {"acks": len(payload["ack_ids"]), "tips": len(marks)}
    else:
        raise BundleError("PORTAL_ZONE=all 的安装不需要交换包：请在 public 或 internal 区执行。")
    _write(Path(out), crypto.bundle_pack(payload))
    public.transfer_log(action=TransferLog.Action.EXPORT, bundle_id=bundle_id, marks=marks, **counts)
    return {"bundle_id": bundle_id, **counts}


def bundle_import(*, path: Path) -> dict:
    zone = conf.zone()
    try:
        payload = crypto.bundle_unpack(Path(path).read_bytes())
    except crypto.SignatureError as exc:
        public.transfer_log(action=TransferLog.Action.REFUSED, ok=False, bundle=str(path), reason=str(exc))
        raise BundleError(f"交换包被拒绝：{exc}")
    expected = {"internal": "to_internal", "public": "to_public"}.get(zone)
    if payload.get("direction") != expected:
        raise BundleError(f"这个交换包是发往另一个区的（{payload.get('direction')}），本机是 {zone} 区。")
    created = parse_datetime(payload.get("created_at") or "")
    if created is None or timezone.now() - created > MAX_AGE:
        public.transfer_log(action=TransferLog.Action.REFUSED, ok=False, bundle=str(path), reason="too old")
        raise BundleError("交换包已超过 30 天，不再接受；请在对方重新导出。")
    if not public.nonce_use(f"b:{payload['bundle_id']}"):
        public.transfer_log(
            action=TransferLog.Action.REFUSED, ok=False, bundle=str(path), reason="replayed bundle"
        )
        raise BundleError("这个交换包已经导入过，不再重复导入。")
    if zone == "internal":
        counts = {"imported": 0, "duplicate": 0, "refused": 0}
        for envelope in payload.get("submissions", []):
            try:
                counts[internal.submission_import(envelope=envelope)] += 1
            except internal.ImportRefused as exc:
                counts["refused"] += 1
                public.transfer_log(
                    action=TransferLog.Action.REFUSED,
                    ok=False,
                    **internal.refused_for_review(envelope=envelope, reason=str(exc)),
                )
        # Publications carried by bundles the public node says it applied are now delivered.
        applied = set(payload.get("applied") or [])
        for log in TransferLog.objects.filter(
            action=TransferLog.Action.EXPORT, detail__bundle_id__in=applied
        ):
            internal.publications_delivered(marks=[tuple(m) for m in log.detail.get("marks", [])])
    else:
        counts = {"deleted": public.submissions_ack(ids=payload.get("ack_ids") or [])}
        counts |= public.publications_apply(payload=payload.get("publications") or {})
    public.transfer_log(action=TransferLog.Action.IMPORT, bundle_id=payload["bundle_id"], **counts)
    return {"bundle_id": payload["bundle_id"], **counts}
