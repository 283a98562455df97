"""Services of the internal zone (PORTAL_ZONE=internal): import sealed submissions exactly once, and
collect what to publish to the public node.

The public node is treated as untrusted: every sealed payload is opened with our own private key,
checked against the envelope it came in, and validated again by the reports app's own services
(description, identity, file types by content) as if it had come straight from the internet.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
import zlib

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.dateparse import parse_date, parse_datetime

from campaign.models import Region, Sector, Unit
from reports import services as reports_services
from reports import uploads
from reports.models import Reward, Tip, TipEvent, TipMessage, TypicalCase

from . import crypto, keys
from .models import DeliveredItem, ImportedSubmission, SealedSubmission

log = logging.getLogger(__name__)


class ImportRefused(Exception):
    """A sealed submission that must not be imported (unknown key, altered, invalid); kept waiting."""


def _checked_files(items: list[dict]) -> list:
    files = []
    for item in items:
        data = crypto.unb64(item["data"])
        if len(data) != item.get("size") or not item.get("sha256"):
            raise ImportRefused("attachment size does not match its envelope")
        upload = SimpleUploadedFile(item.get("name") or "file", data, item.get("content_type") or "")
        try:
            checked = uploads.check_upload(upload)  # type by content again, on our side
        except ValidationError as exc:
            raise ImportRefused(f"attachment refused: {'; '.join(exc.messages)}")
        if checked.sha256 != item["sha256"]:
            raise ImportRefused("attachment checksum does not match")
        files.append(checked)
    return files


def _open(envelope: dict) -> dict:
    private = keys.zone_private_key(envelope.get("key_id", ""))
    if private is None:
        raise ImportRefused(f"sealed to an unknown key {envelope.get('key_id')!r}")
    try:
        payload = crypto.unseal(crypto.unb64(envelope["sealed"]), private_key=private)
    except (crypto.SealError, ValueError) as exc:
        raise ImportRefused(str(exc))
    # The envelope's id and kind must be the ones sealed inside: a swapped or replayed box is refused.
    if payload.get("submission_id") != envelope.get("id") or payload.get("kind") != envelope.get("kind"):
        raise ImportRefused("envelope does not match its sealed content")
    return payload


def _tip_submit_keeping_receipt(payload: dict, files: list) -> Tip:
    """Create the tip through the reports service, under the tracking code and PIN hash the informant
    already holds (issued on the public node)."""
    fields = payload["fields"]
    identity = payload.get("identity") or {}
    sector = Sector.objects.filter(code=fields.get("sector") or "").first()
    region = Region.objects.filter(code=fields.get("region") or "").first()
    kwargs = {
        "description": fields["description"],
        "sector": sector,
        "region": region,
        "location": fields.get("location") or "",
        "accused": fields.get("accused") or "",
        "occurred_at": parse_date(fields["occurred_at"]) if fields.get("occurred_at") else None,
        "anonymous": not identity,
        "identity": identity,
        "attachments": files,
        "received_at": parse_datetime(payload["received_at"]),
    }
    params = inspect.signature(reports_services.tip_submit).parameters
    if "tracking_code" in params and "pin_hash" in params:
        tip, _pin = reports_services.tip_submit(
            **kwargs, tracking_code=payload["tracking_code"], pin_hash=payload["pin_hash"]
        )
        return tip
    # Until tip_submit takes a given code and PIN hash, swap them in inside the same transaction (the
    # tip is not committed yet, so nobody has seen the generated ones; the generated PIN is discarded).
    tip, _pin = reports_services.tip_submit(**kwargs)
    Tip.objects.filter(pk=tip.pk).update(tracking_code=payload["tracking_code"], pin_hash=payload["pin_hash"])
    tip.tracking_code, tip.pin_hash = payload["tracking_code"], payload["pin_hash"]
    return tip


def submission_import(*, envelope: dict) -> str:
    """Import one sealed submission; "imported", or "duplicate" when it was imported before.

    The ImportedSubmission row is written in the same transaction as the tip (or reply), so a transfer
    cut anywhere either has both or neither, and a second delivery finds the row and does nothing.
    Raises ImportRefused for what must not be imported.
    """
    try:
        submission_id = uuid.UUID(str(envelope.get("id")))
    except ValueError:
        raise ImportRefused("malformed submission id")
    if ImportedSubmission.objects.filter(submission_id=submission_id).exists():
        return "duplicate"
    payload = _open(envelope)
    try:
        with transaction.atomic():
            if payload["kind"] == SealedSubmission.Kind.TIP:
                files = _checked_files(payload.get("attachments") or [])
                try:
                    tip = _tip_submit_keeping_receipt(payload, files)
                except ValidationError as exc:
                    raise ImportRefused(
                        f"invalid tip: {exc.message_dict if hasattr(exc, 'error_dict') else exc.messages}"
                    )
                ImportedSubmission.objects.create(submission_id=submission_id, kind=payload["kind"], tip=tip)
            elif payload["kind"] == SealedSubmission.Kind.REPLY:
                tip = Tip.objects.filter(tracking_code=payload["tracking_code"]).first()
                if tip is None:
                    raise ImportRefused("reply to a tip that has not arrived yet")
                files = _checked_files(payload.get("attachments") or [])
                try:
                    message = reports_services.tip_message_reply(
                        tip_id=tip.pk, body=payload["body"], attachments=files
                    )
                except ValidationError as exc:
                    raise ImportRefused(f"invalid reply: {exc.messages}")
                ImportedSubmission.objects.create(
                    submission_id=submission_id, kind=payload["kind"], tip=tip, message=message
                )
            else:
                raise ImportRefused(f"unknown kind {payload['kind']!r}")
    except IntegrityError:
        # Another run imported it between our check and our insert: its transaction won, ours rolled back.
        if ImportedSubmission.objects.filter(submission_id=submission_id).exists():
            return "duplicate"
        raise
    return "imported"


# --- publishing ----------------------------------------------------------------------------------
def publications_collect(*, limit: int = 200) -> tuple[dict, list[tuple[int, int]]]:
    """Tips whose public state changed since last delivered (by `Tip.version`), with their full public
    state: receipt, status, public timeline and the office's messages. Returns the payload and the
    (tip id, version) pairs to mark delivered once the public node confirms."""
    delivered = DeliveredItem.objects.filter(
        kind=DeliveredItem.Kind.STATE, source_id=OuterRef("pk"), version=OuterRef("version")
    )
    tips = list(
        Tip.objects.filter(~Exists(delivered))
        .order_by("pk")
        .only(
            "pk", "tracking_code", "pin_hash", "received_at", "public_status", "public_conclusion", "version"
        )[:limit]
    )
    ids = [t.pk for t in tips]
    events: dict[int, list] = {}
    for ev in TipEvent.objects.filter(tip_id__in=ids, public=True).order_by("at", "id"):
        events.setdefault(ev.tip_id, []).append(
            {"id": ev.pk, "at": ev.at.isoformat(), "text": ev.public_text}
        )
    messages: dict[int, list] = {}
    for msg in TipMessage.objects.filter(
        tip_id__in=ids, direction=TipMessage.Direction.TO_INFORMANT
    ).order_by("created_at", "id"):
        messages.setdefault(msg.tip_id, []).append(
            {"id": msg.pk, "at": msg.created_at.isoformat(), "body": msg.body}
        )
    rewards = dict(
        Reward.objects.filter(tip_id__in=ids, status__in=[Reward.Status.APPROVED, Reward.Status.PAID])
        .order_by("proposed_at")
        .values_list("tip_id", "status")
    )
    payload = {
        "tips": [
            {
                "tracking_code": t.tracking_code,
                "pin_hash": t.pin_hash,
                "received_at": t.received_at.isoformat(),
                "public_status": t.public_status,
                "public_conclusion": t.public_conclusion,
                "reward_status": rewards.get(t.pk, ""),
                "version": t.version,
                "events": events.get(t.pk, []),
                "messages": messages.get(t.pk, []),
            }
            for t in tips
        ]
    }
    key = keys.zone_key_current()
    if key is not None:
        payload["sealing_key"] = {"key_id": key.key_id, "public_key": key.public_key}
    marks = [(t.pk, t.version) for t in tips]
    reference = reference_payload()
    digest = zlib.crc32(json.dumps(reference, sort_keys=True, ensure_ascii=False).encode()) & 0x7FFFFFFF
    sent = DeliveredItem.objects.filter(
        kind=DeliveredItem.Kind.REFERENCE, source_id=0, version=digest
    ).exists()
    if not sent:
        payload["reference"] = reference
        marks.append((REFERENCE_MARK, digest))
    return payload, marks


REFERENCE_MARK = -1


def reference_payload() -> dict:
    """What the public pages show besides tips: regions, sectors and units' published reporting channels
    (the form's choices, the how-to-report page), and the published typical cases."""
    regions = [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level,
            "parent": r.parent.code if r.parent else None,
            "sort_order": r.sort_order,
        }
        for r in Region.objects.select_related("parent").order_by("level", "sort_order", "code")
    ]
    units = [
        {
            "code": u.code,
            "name": u.name,
            "short_name": u.short_name,
            "kind": u.kind,
            "region": u.region.code,
            "parent": u.parent.code if u.parent else None,
            "hotline": u.hotline,
            "mailbox": u.mailbox,
            "email": u.email,
            "website": u.website,
            "address": u.address,
            "publish_channels": u.publish_channels,
            "is_active": u.is_active,
            "sort_order": u.sort_order,
        }
        for u in Unit.objects.select_related("region", "parent").order_by("sort_order", "code")
    ]
    sectors = [
        {
            "code": s.code,
            "name": s.name,
            "lead_unit": s.lead_unit.code,
            "description": s.description,
            "sort_order": s.sort_order,
        }
        for s in Sector.objects.select_related("lead_unit").order_by("sort_order", "code")
    ]
    cases = [
        {
            "id": c.pk,
            "title": c.title,
            "summary": c.summary,
            "outcome": c.outcome,
            "sector": c.sector.code if c.sector else None,
            "region": c.region.code if c.region else None,
            "published_on": c.published_on.isoformat() if c.published_on else None,
        }
        for c in TypicalCase.objects.filter(is_published=True)
        .select_related("sector", "region")
        .order_by("pk")
    ]
    return {"regions": regions, "units": units, "sectors": sectors, "cases": cases}


@transaction.atomic
def publications_delivered(*, marks: list[tuple[int, int]]) -> None:
    for source_id, version in marks:
        if source_id == REFERENCE_MARK:
            DeliveredItem.objects.update_or_create(
                kind=DeliveredItem.Kind.REFERENCE, source_id=0, defaults={"version": version}
            )
        else:
            DeliveredItem.objects.update_or_create(
                kind=DeliveredItem.Kind.STATE, source_id=source_id, defaults={"version": version}
            )


def refused_for_review(*, envelope: dict, reason: str) -> dict:
    """What is logged about a refused submission (never its content)."""
    return {"id": str(envelope.get("id")), "kind": envelope.get("kind"), "reason": reason[:500]}
