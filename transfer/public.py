"""Services of the public node (PORTAL_ZONE=public).

A submission is sealed to the internal zone's key the moment it arrives, identity and attachments
included; the node keeps the ciphertext until the internal side has collected it and said so, plus a
receipt (tracking code, PIN hash) and whatever status and messages the office published for follow-up.
Validation is the same as the reports app's (reports.validators, reports.uploads), so an informant
sees the same messages on either kind of installation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from reports import crypto as reports_crypto
from reports import validators
from reports.models import PublicStatus
from reports.services import PUBLIC_STATUS_TEXT
from reports.uploads import CheckedFile

from . import conf, crypto, keys
from .models import PublishedEntry, Receipt, SealedSubmission, TransferLog, TransferNonce

log = logging.getLogger(__name__)
PAYLOAD_VERSION = 1
LOCAL_RECEIVED = "local:received"


def transfer_log(*, action: str, ok: bool = True, **detail) -> TransferLog:
    """One row per exchange or refusal; refusals are also logged as warnings for the system log."""
    if not ok:
        log.warning("zone transfer refused: %s %s", action, detail)
    return TransferLog.objects.create(zone=conf.zone(), action=action, ok=ok, detail=detail)


def transfer_log_prune(*, keep_days: int = 30, keep_refused_days: int = 365) -> int:
    """Exchanges run every minute: keep a month of them, and a year of refusals (they are evidence)."""
    now = timezone.now()
    old_ok = TransferLog.objects.filter(ok=True, at__lt=now - dt.timedelta(days=keep_days))
    old_refused = TransferLog.objects.filter(ok=False, at__lt=now - dt.timedelta(days=keep_refused_days))
    return old_ok.delete()[0] + old_refused.delete()[0]


def _attachments_payload(files: list[CheckedFile]) -> list[dict]:
    out = []
    for item in files:
        handle = item.open()
        try:
            data = handle.read()
        finally:
            if item.upload is None:
                handle.close()
        out.append(
            {
                "name": item.name,
                "content_type": item.content_type,
                "size": len(data),
                "sha256": item.sha256,
                "data": crypto.b64(data),
            }
        )
    return out


def _seal(*, kind: str, receipt: Receipt, body: dict) -> SealedSubmission:
    key = keys.sealing_key_current()
    submission_id = uuid.uuid4()
    payload = {
        "v": PAYLOAD_VERSION,
        "kind": kind,
        "submission_id": str(submission_id),
        "tracking_code": receipt.tracking_code,
        "created_at": timezone.now().isoformat(),
        **body,
    }
    sealed = crypto.seal(payload, public_key=key.public_key)
    return SealedSubmission.objects.create(
        id=submission_id, kind=kind, receipt=receipt, key_id=key.key_id, sealed=sealed, size=len(sealed)
    )


def sealed_tip_submit(
    *,
    description: str,
    sector=None,
    region=None,
    location: str = "",
    accused: str = "",
    occurred_at: dt.date | None = None,
    anonymous: bool = True,
    identity: dict | None = None,
    attachments: list[CheckedFile] = (),
) -> tuple[Receipt, str]:
    """Seal a public submission and keep its receipt; returns the receipt and the PIN (shown once).

    Same arguments and the same field-keyed ValidationError as reports.services.tip_submit. Nothing in
    plain text reaches the database: the description, identity, place, accused and files are inside
    the sealed box; the receipt holds only the code, the PIN hash and the time.
    """
    errors: dict[str, list[str]] = {}
    try:
        description = validators.validate_description(description)
    except ValidationError as exc:
        errors["description"] = exc.messages
    try:
        validators.validate_not_future_date(occurred_at)
    except ValidationError as exc:
        errors["occurred_at"] = exc.messages
    clean_identity: dict = {}
    try:
        clean_identity = validators.validate_identity(anonymous=anonymous, identity=identity or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(attachments) > settings.ATTACHMENT_MAX_FILES:
        errors["attachments"] = [_("附件数量超过上限。")]
    if errors:
        raise ValidationError(errors)

    pin = reports_crypto.pin_new()
    now = timezone.now()
    body = {
        "received_at": now.isoformat(),
        "pin_hash": None,  # filled in below, once the tracking code is fixed
        "fields": {
            "description": description,
            "sector": getattr(sector, "code", None) or (sector if isinstance(sector, str) else None),
            "region": getattr(region, "code", None) or (region if isinstance(region, str) else None),
            "location": (location or "").strip()[:200],
            "accused": (accused or "").strip(),
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
        },
        "identity": clean_identity,
        "attachments": _attachments_payload(list(attachments)),
    }
    with transaction.atomic():
        for attempt in range(3):
            code = reports_crypto.tracking_code_new()
            try:
                with transaction.atomic():
                    receipt = Receipt.objects.create(
                        tracking_code=code,
                        pin_hash=reports_crypto.pin_hash(tracking_code=code, pin=pin),
                        received_at=now,
                    )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        body["pin_hash"] = receipt.pin_hash
        _seal(kind=SealedSubmission.Kind.TIP, receipt=receipt, body=body)
        PublishedEntry.objects.create(
            receipt=receipt,
            kind=PublishedEntry.Kind.EVENT,
            source_id=LOCAL_RECEIVED,
            at=now,
            text=str(PUBLIC_STATUS_TEXT[PublicStatus.RECEIVED]),
        )
    return receipt, pin


def receipt_authenticate(*, tracking_code: str, pin: str) -> Receipt | None:
    """The receipt for a code + PIN pair, or None (same timing for a wrong code and a wrong PIN)."""
    code = reports_crypto.tracking_code_normalize(tracking_code)
    receipt = (
        Receipt.objects.filter(tracking_code=code).first()
        if reports_crypto.tracking_code_is_wellformed(code)
        else None
    )
    stored = receipt.pin_hash if receipt else reports_crypto.pin_hash(tracking_code="-", pin="-")
    ok = reports_crypto.pin_verify(tracking_code=code, pin=(pin or "").strip(), stored=stored)
    return receipt if (receipt and ok) else None


@transaction.atomic
def sealed_reply_submit(*, receipt_id: int, body: str, attachments: list[CheckedFile] = ()) -> PublishedEntry:
    """The informant writes to the office: sealed like a tip; the thread shows only that a reply was sent."""
    try:
        body = validators.validate_message_body(body)
    except ValidationError as exc:
        raise ValidationError({"body": exc.messages})
    receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
    sealed = _seal(
        kind=SealedSubmission.Kind.REPLY,
        receipt=receipt,
        body={"body": body, "attachments": _attachments_payload(list(attachments))},
    )
    return PublishedEntry.objects.create(
        receipt=receipt, kind=PublishedEntry.Kind.REPLY, source_id=str(sealed.id), at=sealed.created_at
    )


def receipt_thread(receipt: Receipt) -> list[PublishedEntry]:
    return list(receipt.entries.order_by("at", "id"))


# --- what the internal side collects -------------------------------------------------------------
def submissions_collect(
    *, limit: int | None = None, max_bytes: int | None = None, skip: list | None = None
) -> dict:
    """The oldest waiting submissions, up to `limit` items and about `max_bytes` (at least one);
    `skip` names ones the internal side refused in this run, so they do not block the rest."""
    limit = max(1, min(int(limit or conf.get("ZONE_TRANSFER_BATCH")), 500))
    max_bytes = max_bytes or conf.get("ZONE_TRANSFER_BATCH_BYTES")
    items, total = [], 0
    skipped = []
    for value in (skip or [])[:1000]:
        with contextlib.suppress(ValueError):
            skipped.append(uuid.UUID(str(value)))
    ids = (
        SealedSubmission.objects.exclude(id__in=skipped)
        .order_by("created_at", "id")
        .values_list("id", "size")[:limit]
    )
    for pk, size in ids:
        if items and total + size > max_bytes:
            break
        row = SealedSubmission.objects.select_related("receipt").get(pk=pk)
        items.append(
            {
                "id": str(row.id),
                "kind": row.kind,
                "key_id": row.key_id,
                "tracking_code": row.receipt.tracking_code,
                "created_at": row.created_at.isoformat(),
                "sealed": crypto.b64(bytes(row.sealed)),
            }
        )
        total += size
    waiting = SealedSubmission.objects.aggregate(n=Sum("size"))
    return {
        "submissions": items,
        "waiting": SealedSubmission.objects.count(),
        "waiting_bytes": waiting["n"] or 0,
    }


@transaction.atomic
def submissions_ack(*, ids: list[str]) -> int:
    """The internal side committed these: delete the ciphertext, note on the receipt when it was taken."""
    clean = []
    for value in ids:
        try:
            clean.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    rows = SealedSubmission.objects.select_for_update().filter(id__in=clean)
    receipt_ids = {r.receipt_id for r in rows if r.kind == SealedSubmission.Kind.TIP}
    deleted, _ = rows.delete()
    Receipt.objects.filter(pk__in=receipt_ids, collected_at__isnull=True).update(collected_at=timezone.now())
    return deleted


# --- what the internal side publishes ------------------------------------------------------------
@transaction.atomic
def publications_apply(*, payload: dict) -> dict:
    """Apply status, messages and receipts the internal side published; the same payload twice is a no-op."""
    counts = {"receipts": 0, "entries": 0}
    key = payload.get("sealing_key")
    if key and key.get("public_key"):
        keys.sealing_key_install(public_key=key["public_key"])
    if payload.get("reference"):
        counts["reference"] = _reference_apply(payload["reference"])
    for item in payload.get("tips", []):
        code = reports_crypto.tracking_code_normalize(item["tracking_code"])
        receipt, created = Receipt.objects.select_for_update().get_or_create(
            tracking_code=code,
            defaults={
                "pin_hash": item["pin_hash"],
                "received_at": parse_datetime(item["received_at"]) or timezone.now(),
                "collected_at": timezone.now(),
            },
        )
        counts["receipts"] += int(created)
        version = int(item.get("version") or 0)
        if version >= receipt.status_version:
            receipt.pin_hash = item["pin_hash"] or receipt.pin_hash
            receipt.public_status = item.get("public_status") or receipt.public_status
            receipt.public_conclusion = item.get("public_conclusion") or ""
            receipt.reward_status = item.get("reward_status") or ""
            receipt.status_version = version
            receipt.save(
                update_fields=[
                    "pin_hash",
                    "public_status",
                    "public_conclusion",
                    "reward_status",
                    "status_version",
                    "updated_at",
                ]
            )
        entries = [
            (PublishedEntry.Kind.EVENT, f"e{e['id']}", e["at"], e.get("text", ""))
            for e in item.get("events", [])
        ] + [
            (PublishedEntry.Kind.OFFICE_MESSAGE, f"m{m['id']}", m["at"], m.get("body", ""))
            for m in item.get("messages", [])
        ]
        if item.get("events"):
            # The internal side's own "received" step replaces the one written when the tip came in.
            receipt.entries.filter(kind=PublishedEntry.Kind.EVENT, source_id=LOCAL_RECEIVED).delete()
        for kind, source_id, at, text in entries:
            _, made = PublishedEntry.objects.update_or_create(
                receipt=receipt,
                kind=kind,
                source_id=source_id,
                defaults={"at": parse_datetime(at) or timezone.now(), "text": text},
            )
            counts["entries"] += int(made)
    return counts


def _reference_apply(reference: dict) -> int:
    """Mirror regions, units, sectors and published typical cases from the internal side (a replica,
    like loaddata: the public node never edits them itself)."""
    from campaign.models import Region, Sector, Unit, User
    from reports.models import TypicalCase

    for r in reference.get("regions", []):
        Region.objects.update_or_create(
            code=r["code"],
            defaults={
                "name": r["name"],
                "level": r["level"],
                "sort_order": r["sort_order"],
                "parent": Region.objects.filter(code=r["parent"]).first() if r.get("parent") else None,
            },
        )
    regions = {r.code: r for r in Region.objects.all()}
    for u in sorted(reference.get("units", []), key=lambda u: u.get("parent") is not None):
        fields = {
            k: u[k]
            for k in (
                "name",
                "short_name",
                "kind",
                "hotline",
                "mailbox",
                "email",
                "website",
                "address",
                "publish_channels",
                "is_active",
                "sort_order",
            )
        }
        fields["region"] = regions[u["region"]]
        fields["parent"] = Unit.objects.filter(code=u["parent"]).first() if u.get("parent") else None
        Unit.objects.update_or_create(code=u["code"], defaults=fields)
    units = {u.code: u for u in Unit.objects.all()}
    for sec in reference.get("sectors", []):
        Sector.objects.update_or_create(
            code=sec["code"],
            defaults={
                "name": sec["name"],
                "lead_unit": units[sec["lead_unit"]],
                "description": sec["description"],
                "sort_order": sec["sort_order"],
            },
        )
    sectors = {s.code: s for s in Sector.objects.all()}
    # Typical cases need an author; on the public node that is one inactive account nobody can log in as.
    owner, _ = User.objects.get_or_create(
        username="zone-sync", defaults={"is_active": False, "display_name": "数据交换", "role": "leader"}
    )
    if owner.has_usable_password():
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    published = []
    for c in reference.get("cases", []):
        TypicalCase.objects.update_or_create(
            pk=c["id"],
            defaults={
                "title": c["title"],
                "summary": c["summary"],
                "outcome": c["outcome"],
                "sector": sectors.get(c["sector"]) if c.get("sector") else None,
                "region": regions.get(c["region"]) if c.get("region") else None,
                "published_on": c["published_on"],
                "is_published": True,
                "created_by": owner,
            },
        )
        published.append(c["id"])
    TypicalCase.objects.exclude(pk__in=published).delete()
    return len(reference.get("units", [])) + len(published)


# --- replay protection ---------------------------------------------------------------------------
def nonce_use(nonce: str) -> bool:
    """Record a nonce; False when it was used before (a replay). Old request nonces are pruned: the
    timestamp check already refuses anything older than the window."""
    window = conf.get("ZONE_REPLAY_WINDOW_SECONDS")
    TransferNonce.objects.filter(
        seen_at__lt=timezone.now() - dt.timedelta(seconds=2 * window), nonce__startswith="r:"
    ).delete()
    try:
        with transaction.atomic():
            TransferNonce.objects.create(nonce=nonce)
    except IntegrityError:
        return False
    return True
