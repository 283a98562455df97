"""Retention: informant identity and attachments of tips concluded long ago are purged; the case stays.

A tip is expired when it was concluded (public status 已办结, `concluded_at`) or not accepted (不予受理,
decided at triage, `triaged_at`) more than settings.RETENTION_YEARS years ago (default 5), has not been
purged yet, and has no reward still being decided or waiting for payment (paying one needs to know whom).

Purging empties the identity token, replaces every masked identity field with PURGED_TEXT, stamps
`identity_purged_at`, deletes the attachment files and their rows (TipAttachment has no "purged" state;
what was removed is counted in the tip's event), and leaves description, accused, places, dates,
triage, timeline, messages and rewards as they were. Each tip gets a TipEvent, each batch an audit row.

The sweep is bounded and re-runnable (Saleor-style): keyset batches by id, each batch one short
transaction taking its rows with SKIP LOCKED and re-checking the conditions under the lock; a purged
tip never matches again, so a second run, or two beats at once, purge nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.audit import audit_record

from .models import PublicStatus, Reward, Tip, TipAttachment, TipEvent

log = logging.getLogger(__name__)

# Stored data, not interface text: the Chinese source wording, the same whatever language is active.
PURGED_TEXT = "已按规定清除"
EVENT_KIND = "retention_purge"
DEFAULT_YEARS = 5
DEFAULT_BATCH = 200


def retention_years() -> int:
    return int(getattr(settings, "RETENTION_YEARS", DEFAULT_YEARS))


def retention_cutoff(*, now: dt.datetime | None = None, years: int | None = None) -> dt.datetime:
    """The moment N calendar years before `now` (29 February falls back to the 28th)."""
    now = now or timezone.now()
    years = retention_years() if years is None else years
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _expired_q(cutoff: dt.datetime) -> Q:
    concluded = Q(public_status=PublicStatus.CONCLUDED, concluded_at__lt=cutoff)
    not_accepted = Q(public_status=PublicStatus.NOT_ACCEPTED, triaged_at__lt=cutoff)
    return (concluded | not_accepted) & Q(identity_purged_at__isnull=True)


def tips_expired(*, cutoff: dt.datetime) -> QuerySet[Tip]:
    """Tips whose identity and attachments are due for purging at `cutoff`."""
    open_reward = Reward.objects.filter(
        tip=OuterRef("pk"), status__in=[Reward.Status.PROPOSED, Reward.Status.APPROVED]
    )
    return Tip.objects.filter(_expired_q(cutoff)).exclude(Exists(open_reward))


@dataclass
class PurgeReport:
    """Counts of one sweep."""

    cutoff: str
    years: int
    dry_run: bool = False
    tips: int = 0
    identities: int = 0
    attachments: int = 0
    bytes: int = 0
    batches: int = 0
    tip_ids: list[int] = field(default_factory=list)  # the first 1000, for the log and tests


def _purge_batch(*, ids: list[int], cutoff: dt.datetime, years: int, now: dt.datetime, actor) -> dict:
    """Purge one batch in one transaction; returns its counts. Files go after the row changes (below)."""
    with transaction.atomic():
        # Conditions re-checked under the lock: a tip reopened or purged since the id scan is left alone.
        tips = list(
            tips_expired(cutoff=cutoff)
            .filter(pk__in=ids)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .only("pk", "tracking_code", "identity_encrypted", "identity_masked", "version")
        )
        if not tips:
            return {"tips": 0, "identities": 0, "attachments": 0, "bytes": 0, "tip_ids": []}
        tip_ids = [t.pk for t in tips]
        attachments = list(
            TipAttachment.objects.filter(tip_id__in=tip_ids)
            .only("pk", "tip_id", "file", "size")
            .order_by("pk")
        )
        per_tip: dict[int, list[TipAttachment]] = {}
        for a in attachments:
            per_tip.setdefault(a.tip_id, []).append(a)
        identities = 0
        events = []
        for tip in tips:
            had_identity = bool(tip.identity_encrypted or tip.identity_masked)
            identities += had_identity
            tip.identity_encrypted = ""
            tip.identity_masked = dict.fromkeys(tip.identity_masked or {}, PURGED_TEXT)
            tip.identity_purged_at = now
            tip.version += 1
            mine = per_tip.get(tip.pk, [])
            events.append(
                TipEvent(
                    tip=tip,
                    kind=EVENT_KIND,
                    note=_("已按规定清除举报人身份信息和附件（办结满 %(years)s 年）。") % {"years": years},
                    data={
                        "identity": had_identity,
                        "attachments": len(mine),
                        "bytes": sum(a.size for a in mine),
                        "retention_years": years,
                    },
                )
            )
        Tip.objects.bulk_update(
            tips, ["identity_encrypted", "identity_masked", "identity_purged_at", "version"]
        )
        TipAttachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        # Files are removed inside the transaction, after every row change: if the commit then fails, the
        # tips stay unpurged and the next sweep deletes the rows (a missing file is no error), whereas
        # deleting after commit could leave files on disk for ever when the process dies in between.
        file_errors = [a.file.name for a in attachments if not _delete_file(a.file.name)]
        TipEvent.objects.bulk_create(events)
        counts = {
            "tips": len(tips),
            "identities": identities,
            "attachments": len(attachments),
            "bytes": sum(a.size for a in attachments),
            "tip_ids": tip_ids,
        }
        audit_record(
            actor=actor,
            action="retention.purge",
            data={
                **counts,
                "tracking_codes": [t.tracking_code for t in tips],
                "cutoff": cutoff.isoformat(),
                "retention_years": years,
                "file_errors": file_errors,
            },
        )
    return counts


def _delete_file(name: str) -> bool:
    """Delete one stored file; a failure is logged and named in the audit row, not fatal to the batch."""
    if not name:
        return True
    try:
        default_storage.delete(name)
    except OSError:
        log.exception("retention: could not delete attachment file %s", name)
        return False
    return True


def tips_purge_expired(
    *,
    now: dt.datetime | None = None,
    years: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
    dry_run: bool = False,
    actor=None,
) -> PurgeReport:
    """Purge identity and attachments of every expired tip, batch by batch; safe to run again at any time.

    `max_batches` bounds one run (the periodic task); what is left waits for the next run. `dry_run`
    counts what would be purged and changes nothing.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    now = now or timezone.now()
    years = retention_years() if years is None else years
    if years < 1:
        raise ValueError("RETENTION_YEARS must be at least 1")
    cutoff = retention_cutoff(now=now, years=years)
    report = PurgeReport(cutoff=cutoff.isoformat(), years=years, dry_run=dry_run)
    candidates = tips_expired(cutoff=cutoff)
    if dry_run:
        report.tips = candidates.count()
        report.identities = candidates.exclude(identity_encrypted="", identity_masked={}).count()
        files = TipAttachment.objects.filter(tip__in=candidates)
        report.attachments = files.count()
        report.bytes = sum(files.values_list("size", flat=True))
        return report
    last_id = 0
    while max_batches is None or report.batches < max_batches:
        ids = list(candidates.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last_id = ids[-1]
        counts = _purge_batch(ids=ids, cutoff=cutoff, years=years, now=now, actor=actor)
        report.batches += 1
        report.tips += counts["tips"]
        report.identities += counts["identities"]
        report.attachments += counts["attachments"]
        report.bytes += counts["bytes"]
        report.tip_ids += counts["tip_ids"][: max(0, 1000 - len(report.tip_ids))]
    if report.tips:
        log.info(
            "retention: purged %s tips (%s identities, %s attachments) concluded before %s",
            report.tips,
            report.identities,
            report.attachments,
            report.cutoff,
        )
    return report
