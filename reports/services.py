"""Writes for tips. Higher apps (leads) change what a tip shows only through these functions."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import PublicStatus, Tip, TipEvent, TipStatus

PUBLIC_STATUS_TEXT = {
    PublicStatus.RECEIVED: _("您的举报已收到，我们将尽快研判。"),
    PublicStatus.ACCEPTED: _("您的举报已受理，已交有关部门核查。"),
    PublicStatus.VERIFYING: _("有关部门正在核查。"),
    PublicStatus.CONCLUDED: _("核查工作已办结。"),
    PublicStatus.NOT_ACCEPTED: _("经研判，您反映的问题不属于扫黑除恶专项斗争受理范围。"),
}


@transaction.atomic
def tip_record_triage(
    *, tip_id: int, status: str, actor, note: str = "", unit=None, duplicate_of_id: int | None = None
) -> Tip:
    """Record the office's triage decision on a tip (registered as lead, merged, duplicate, rejected)."""
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    old = tip.status
    tip.status = status
    tip.triaged_at = timezone.now()
    tip.triaged_by = actor
    tip.triage_note = note
    if unit is not None:
        tip.unit = unit
    if duplicate_of_id is not None:
        tip.duplicate_of_id = duplicate_of_id
    tip.version += 1
    tip.save(
        update_fields=["status", "triaged_at", "triaged_by", "triage_note", "unit", "duplicate_of", "version"]
    )
    TipEvent.objects.create(tip=tip, actor=actor, kind="triage", note=note, data={"from": old, "to": status})
    if status in (TipStatus.REGISTERED, TipStatus.MERGED, TipStatus.DUPLICATE):
        _set_public(tip, PublicStatus.ACCEPTED, actor=actor)
    elif status == TipStatus.REJECTED:
        _set_public(tip, PublicStatus.NOT_ACCEPTED, actor=actor)
    return tip


@transaction.atomic
def tip_set_public_status(*, tip_ids: list[int], public_status: str, actor=None, conclusion: str = "") -> int:
    """Move the informant-facing status of tips (called by leads when a lead step changes it).

    `conclusion` is the text the office chose to publish when a lead is closed. Internal details (units,
    findings) never reach the public timeline: only the plain-words status text and that conclusion.
    """
    changed = 0
    for tip in Tip.objects.select_for_update().filter(pk__in=tip_ids).order_by("pk"):
        if _set_public(tip, public_status, actor=actor, conclusion=conclusion):
            changed += 1
    return changed


def _set_public(tip: Tip, public_status: str, *, actor, conclusion: str = "") -> bool:
    if public_status == tip.public_status and not conclusion:
        return False
    fields = ["public_status", "version"]
    tip.public_status = public_status
    if public_status == PublicStatus.CONCLUDED:
        tip.concluded_at = timezone.now()
        tip.public_conclusion = conclusion
        fields += ["concluded_at", "public_conclusion"]
    tip.version += 1
    tip.save(update_fields=fields)
    text = PUBLIC_STATUS_TEXT.get(PublicStatus(public_status), "")
    if conclusion:
        text = f"{text} {conclusion}"
    TipEvent.objects.create(
        tip=tip, actor=actor, kind=f"public:{public_status}", public=True, public_text=text[:300]
    )
    return True
