"""Writes for leads: registration, the one workflow entry point `lead_transition`, and tip triage.

Every change of a lead goes through `lead_transition` (or `lead_register`, which creates one): it locks
the lead row, checks the workflow table (leads/workflow.py), applies the action, derives the lead's
status from its assignments, bumps `version` and writes the timeline event, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign import workdays
from campaign.models import Region, Sector, Unit, User
from campaign.roles import Role
from reports.models import PublicStatus, Tip, TipStatus
from reports.services import tip_record_triage, tip_set_public_status

from .attachments import attachments_check
from .conf import leads_setting
from .models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    DeadlinePolicy,
    Disposition,
    ExtensionRequest,
    Lead,
    LeadAttachment,
    LeadEvent,
    LeadSource,
    LeadStatus,
    LeadTip,
    Priority,
    Result,
    SendBack,
    StageReportRequest,
)
from .workflow import PUBLIC_STATUS_FOR, TransitionError, VersionConflict, action_error, table_error

log = logging.getLogger(__name__)

# Sources seeded by the migration and the demo; the office edits the list in the admin.
LEAD_SOURCES = [
    ("central_inspection", "中央督导组转办"),
    ("provincial_office", "省扫黑办转办"),
    ("platform_12337", "12337下发"),
    ("city_office", "市扫黑办转办"),
    ("unit_investigation", "成员单位摸排"),
    ("public_report", "群众举报"),
    ("petition", "信访"),
    ("police_110", "110警情"),
    ("media", "媒体曝光"),
    ("other", "其他"),
]
DEFAULT_SOURCE_FOR_TIPS = "public_report"


def lead_sources_ensure() -> None:
    """Create the standard lead sources that are missing (idempotent; the office's edits are kept)."""
    for i, (code, name) in enumerate(LEAD_SOURCES, start=1):
        LeadSource.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})


def lead_source_default() -> LeadSource:
    source, _created = LeadSource.objects.get_or_create(
        code=DEFAULT_SOURCE_FOR_TIPS, defaults={"name": "群众举报", "sort_order": 6}
    )
    return source


# --- numbers and deadlines -----------------------------------------------------------------------
def lead_numbers_reserve(*, year: int, count: int = 1) -> list[str]:
    """Reserve `count` consecutive numbers for `year` (JZ-2026-000123).

    One INSERT … ON CONFLICT DO UPDATE: PostgreSQL locks the counter row for the rest of the
    transaction, so concurrent registrations queue on it and never get the same number, and the
    first registration of a year needs no separate "create the counter" step that could race.
    """
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO leads_leadnumbercounter (year, last) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last = leads_leadnumbercounter.last + EXCLUDED.last "
            "RETURNING last",
            [year, count],
        )
        last = cur.fetchone()[0]
    prefix = settings.CAMPAIGN.get("LEAD_NUMBER_PREFIX", "JZ")
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


def deadline_policy_for(*, sector: Sector | None, priority: str) -> DeadlinePolicy | None:
    """The most specific DeadlinePolicy row for a sector and priority (None: the settings apply)."""
    rows = DeadlinePolicy.objects.filter(sector__in=[sector] if sector else [], priority__in=[priority, ""])
    rows = list(rows) + list(DeadlinePolicy.objects.filter(sector__isnull=True, priority__in=[priority, ""]))

    def rank(p: DeadlinePolicy) -> int:
        return (2 if p.sector_id else 0) + (1 if p.priority else 0)

    return max(rows, key=rank) if rows else None


def deadline_days_for(*, sector: Sector | None, priority: str) -> int:
    """Working days for verification: the most specific DeadlinePolicy row, else the setting."""
    policy = deadline_policy_for(sector=sector, priority=priority)
    return policy.days if policy else leads_setting("DEFAULT_DEADLINE_DAYS")


def clock_starts_at_signing() -> bool:
    return leads_setting("CLOCK_STARTS_AT") == "signing"


def verification_deadline(
    *, assigned_at: dt.datetime, accept_deadline: dt.datetime, days: int
) -> dt.datetime:
    """The deadline at assignment: counted from the assignment, or (clock at signing) from the last moment
    the unit may sign for it — what the deadline becomes if it signs on the last allowed day."""
    start = accept_deadline if clock_starts_at_signing() else assigned_at
    return workdays.add_workdays(start, days)


# --- helpers -------------------------------------------------------------------------------------
def _assignments_for_check(lead: Lead) -> list[Assignment]:
    pending = ExtensionRequest.objects.filter(
        assignment=OuterRef("pk"), status=ExtensionRequest.Status.PENDING
    ).values("pk")[:1]
    stage = StageReportRequest.objects.filter(
        assignment=OuterRef("pk"), status=StageReportRequest.Status.PENDING
    ).values("pk")[:1]
    return list(
        Assignment.objects.filter(lead=lead)
        .select_related("unit")
        .annotate(pending_extension=Subquery(pending), pending_stage=Subquery(stage))
        .order_by("id")
    )


def derive_status(lead: Lead, assignments: Iterable[Assignment]) -> str:
    """The lead's status from its assignments: no active one → registered; all with a result → verified;
    any signed for → verifying; else assigned. A closed lead stays closed until reopened."""
    if lead.status == LeadStatus.CLOSED:
        return LeadStatus.CLOSED
    active = [a for a in assignments if a.status in ACTIVE_ASSIGNMENT_STATUSES]
    if not active:
        return LeadStatus.REGISTERED
    if all(a.status == AssignmentStatus.SUBMITTED for a in active):
        return LeadStatus.VERIFIED
    if any(a.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED) for a in active):
        return LeadStatus.VERIFYING
    return LeadStatus.ASSIGNED


def derive_result(assignments: Iterable[Assignment]) -> str:
    """The lead's overall result: the strongest finding among the units' results."""
    results = {a.result for a in assignments if a.status == AssignmentStatus.SUBMITTED and a.result}
    for result in (Result.SUBSTANTIATED, Result.PARTLY, Result.UNSUBSTANTIATED, Result.CANNOT_VERIFY):
        if result in results:
            return result
    return ""


def _resolve_units(values) -> list[Unit]:
    """Units from Unit objects, ids or codes, in the given order; raises a field error for unknown ones."""
    if values is None or values == "":
        values = []
    if isinstance(values, str | int | Unit):
        values = [values]
    units: list[Unit] = []
    codes = [v for v in values if isinstance(v, str)]
    ids = [v for v in values if isinstance(v, int)]
    found = {u.code: u for u in Unit.objects.filter(code__in=codes, is_active=True)}
    found_ids = {u.pk: u for u in Unit.objects.filter(pk__in=ids, is_active=True)}
    for v in values:
        unit = v if isinstance(v, Unit) else found.get(v) if isinstance(v, str) else found_ids.get(v)
        if unit is None:
            raise TransitionError.field("units", _("承办单位“%(code)s”不存在或已停用。") % {"code": v})
        if unit not in units:
            units.append(unit)
    return units


def _int_field(fields: dict, name: str, *, required: bool, minimum: int = 1, maximum: int | None = None):
    value = fields.get(name)
    if value in (None, ""):
        if required:
            raise TransitionError.field(
                name, _("请填写%(label)s。") % {"label": _FIELD_LABELS.get(name, name)}
            )
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TransitionError.field(name, _("%(label)s应为整数。") % {"label": _FIELD_LABELS.get(name, name)})
    if number < minimum or (maximum is not None and number > maximum):
        raise TransitionError.field(
            name,
            _("%(label)s应在 %(min)s 到 %(max)s 之间。")
            % {"label": _FIELD_LABELS.get(name, name), "min": minimum, "max": maximum or "∞"},
        )
    return number


_FIELD_LABELS = {
    "days": "工作日天数",
    "assignment": "分办任务",
    "extension": "延期申请",
}


def _require_note(note: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise TransitionError.field("note", message)
    return note


def _target_assignment(fields: dict, assignments: list[Assignment], statuses, message: str) -> Assignment:
    """The assignment an office action names, by `assignment` (id) or `unit` (code)."""
    wanted_id = fields.get("assignment")
    wanted_unit = fields.get("unit")
    candidates = [a for a in assignments if a.status in statuses]
    if wanted_id not in (None, ""):
        try:
            wanted_id = int(wanted_id)
        except (TypeError, ValueError):
            raise TransitionError.field("assignment", message)
        candidates = [a for a in candidates if a.pk == wanted_id]
    elif wanted_unit:
        code = wanted_unit.code if isinstance(wanted_unit, Unit) else str(wanted_unit)
        candidates = [a for a in candidates if a.unit.code == code]
    elif len(candidates) != 1:
        raise TransitionError.field("assignment", _("请选择承办单位的分办任务。"))
    if not candidates:
        raise TransitionError.field("assignment", message)
    return candidates[0]


def _create_assignments(
    *,
    lead: Lead,
    units: list[Unit],
    actor: User,
    now: dt.datetime,
    days: int | None,
    assignments: list[Assignment],
    reasons: dict | None = None,
) -> list[Assignment]:
    if not units:
        raise TransitionError.field("units", _("请至少选择一个承办单位。"))
    active_units = {a.unit_id for a in assignments if a.is_active}
    for unit in units:
        if unit.pk in active_units:
            raise TransitionError.field(
                "units", _("%(unit)s已在承办该线索。") % {"unit": unit.short_name or unit.name}
            )
    policy = deadline_policy_for(sector=lead.sector, priority=lead.priority)
    days = days or (policy.days if policy else leads_setting("DEFAULT_DEADLINE_DAYS"))
    accept_days = policy.accept_days if policy else leads_setting("SIGN_FOR_WORKDAYS")
    accept_deadline = workdays.add_workdays(now, accept_days)
    deadline = verification_deadline(assigned_at=now, accept_deadline=accept_deadline, days=days)
    send_back_until = workdays.add_workdays(now, leads_setting("SEND_BACK_WORKDAYS"))
    has_primary = any(a.is_primary and a.is_active for a in assignments)
    created = []
    for i, unit in enumerate(units):
        created.append(
            Assignment(
                lead=lead,
                unit=unit,
                is_primary=not has_primary and i == 0,
                assigned_at=now,
                assigned_by=actor,
                deadline=deadline,
                verify_days=days,
                accept_deadline=accept_deadline,
                send_back_until=send_back_until,
                routing_reason=((reasons or {}).get(unit.code) or "")[:300],
            )
        )
    Assignment.objects.bulk_create(created)
    # Open send-backs are settled once the office has sent the lead on to someone else.
    for a in assignments:
        if a.status == AssignmentStatus.SENT_BACK and a.closed_at is None:
            a.closed_at = now
            a.save(update_fields=["closed_at"])
    return created


def _withdraw_pending_extension(assignment: Assignment, actor: User, now: dt.datetime, note: str) -> None:
    ExtensionRequest.objects.filter(assignment=assignment, status=ExtensionRequest.Status.PENDING).update(
        status=ExtensionRequest.Status.WITHDRAWN, decided_at=now, decision_note=note
    )


def _unit_label(unit: Unit) -> str:
    return unit.short_name or unit.name


# --- the workflow --------------------------------------------------------------------------------
@dataclass
class Step:
    """What an action handler did: the event's assignment, note and data, plus files to attach."""

    assignment: Assignment | None = None
    note: str = ""
    data: dict | None = None
    files: list | None = None
    public_status: str | None = None
    conclusion: str = ""
    # Called with the timeline event once it exists (report-backs and sign-offs point at their event).
    after: list | None = None


def _do_assign(lead, actor, now, note, assignments, fields) -> Step:
    units = _resolve_units(fields.get("units"))
    days = _int_field(fields, "days", required=False, maximum=250)
    created = _create_assignments(
        lead=lead,
        units=units,
        actor=actor,
        now=now,
        days=days,
        assignments=assignments,
        reasons=fields.get("reasons"),
    )
    assignments.extend(created)
    return Step(
        note=note,
        data={
            "units": [u.code for u in units],
            "unit_names": [_unit_label(u) for u in units],
            "deadline": created[0].deadline.isoformat(),
        },
        assignment=created[0] if len(created) == 1 else None,
    )


def _mine(lead, actor, assignments, statuses) -> Assignment:
    from .workflow import own_assignment

    return own_assignment(assignments, actor, statuses)


def _do_accept(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, [AssignmentStatus.ASSIGNED])
    mine.status = AssignmentStatus.ACCEPTED
    mine.accepted_at = now
    mine.accepted_by = actor
    mine.first_report_due = workdays.add_workdays(now, leads_setting("FIRST_REPORT_WORKDAYS"))
    late = mine.accept_deadline is not None and now > mine.accept_deadline
    data = {"unit": mine.unit.code, "late": late}
    if clock_starts_at_signing() and mine.verify_days:
        # A late signer gains nothing: the clock then starts when the sign-for time ran out.
        start = min(now, mine.accept_deadline) if mine.accept_deadline else now
        mine.deadline = workdays.add_workdays(start, mine.verify_days)
        data["deadline"] = mine.deadline.isoformat()
    mine.save(update_fields=["status", "accepted_at", "accepted_by", "first_report_due", "deadline"])
    return Step(assignment=mine, note=note, data=data)


def _do_send_back(lead, actor, now, note, assignments, fields) -> Step:
    note = _require_note(note, _("请填写退单理由。"))
    mine = _mine(lead, actor, assignments, [AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED])
    previous = mine.status
    mine.status = AssignmentStatus.SENT_BACK
    mine.sent_back_at = now
    mine.sent_back_reason = note
    mine.save(update_fields=["status", "sent_back_at", "sent_back_reason"])
    _withdraw_pending_extension(mine, actor, now, _("已退单，延期申请撤回。"))
    send_back = SendBack.objects.create(
        assignment=mine,
        lead=lead,
        unit=mine.unit,
        reason=note,
        status_before=previous,
        sent_back_at=now,
        sent_back_by=actor,
    )
    return Step(
        assignment=mine,
        note=note,
        data={"unit": mine.unit.code, "previous": previous, "send_back": send_back.pk},
    )


def _do_request_extension(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, [AssignmentStatus.ACCEPTED])
    days = _int_field(fields, "days", required=True, maximum=leads_setting("EXTENSION_MAX_DAYS"))
    note = _require_note(note, _("请填写延期理由。"))
    ext = ExtensionRequest.objects.create(
        assignment=mine,
        days=days,
        reason=note,
        requested_by=actor,
        requested_at=now,
        old_deadline=mine.deadline,
    )
    mine.pending_extension = ext.pk
    return Step(assignment=mine, note=note, data={"unit": mine.unit.code, "days": days, "extension": ext.pk})


def _pending_extension(fields, assignments) -> tuple[ExtensionRequest, Assignment]:
    wanted = fields.get("extension")
    pending = [a for a in assignments if a.pending_extension]
    if wanted not in (None, ""):
        try:
            wanted = int(wanted)
        except (TypeError, ValueError):
            raise TransitionError.field("extension", _("延期申请不存在。"))
        pending = [a for a in pending if a.pending_extension == wanted]
    elif len(pending) > 1:
        raise TransitionError.field("extension", _("有多份延期申请待审批，请选择一份。"))
    if not pending:
        raise TransitionError.field("extension", _("该延期申请不存在或已审批。"))
    assignment = pending[0]
    ext = ExtensionRequest.objects.select_for_update().get(pk=assignment.pending_extension)
    return ext, assignment


def _do_approve_extension(lead, actor, now, note, assignments, fields) -> Step:
    ext, assignment = _pending_extension(fields, assignments)
    days = _int_field(fields, "days", required=False, maximum=leads_setting("EXTENSION_MAX_DAYS")) or ext.days
    new_deadline = workdays.add_workdays(assignment.deadline, days)
    ext.status = ExtensionRequest.Status.APPROVED
    ext.new_deadline = new_deadline
    ext.decided_by = actor
    ext.decided_at = now
    ext.decision_note = note
    ext.save(update_fields=["status", "new_deadline", "decided_by", "decided_at", "decision_note"])
    old = assignment.deadline
    assignment.deadline = new_deadline
    assignment.extension_count += 1
    # The escalation ladder starts again against the new deadline (issue 5).
    assignment.escalation_level = 0
    assignment.escalated_at = None
    assignment.save(update_fields=["deadline", "extension_count", "escalation_level", "escalated_at"])
    assignment.pending_extension = None
    return Step(
        assignment=assignment,
        note=note,
        data={
            "unit": assignment.unit.code,
            "extension": ext.pk,
            "days": days,
            "old_deadline": old.isoformat(),
            "new_deadline": new_deadline.isoformat(),
        },
    )


def _do_refuse_extension(lead, actor, now, note, assignments, fields) -> Step:
    ext, assignment = _pending_extension(fields, assignments)
    note = _require_note(note, _("请填写不同意延期的理由。"))
    ext.status = ExtensionRequest.Status.REFUSED
    ext.decided_by = actor
    ext.decided_at = now
    ext.decision_note = note
    ext.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    assignment.pending_extension = None
    return Step(assignment=assignment, note=note, data={"unit": assignment.unit.code, "extension": ext.pk})


def signoff_fingerprint(result: str, findings: str) -> str:
    """What a signature covers: the conclusion and the findings, exactly as signed."""
    return hashlib.sha256(f"{result}\n{(findings or '').strip()}".encode()).hexdigest()


def _do_submit_result(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, [AssignmentStatus.ACCEPTED])
    result = fields.get("result") or ""
    findings = (fields.get("findings") or "").strip()
    signed = mine.signoff if mine.signoff_id else None
    if signed is not None:
        # The final report is what the unit head signed; nothing else may slip in after the signature.
        result = result or mine.draft_result
        findings = findings or mine.draft_findings
        if signoff_fingerprint(result, findings) != signed.fingerprint:
            message = _(
                "提交的核查结论或核查情况与第一责任人签字背书的内容不一致；修改后须重新提请签字背书。"
            )
            raise TransitionError(message, {"findings": [message]}, kind="state")
    errors = {}
    if result not in Result.values:
        errors["result"] = [_("请选择核查结论。")]
    if not findings:
        errors["findings"] = [_("请填写核查情况。")]
    if errors:
        raise TransitionError(_("请填写核查结论和核查情况。"), errors)
    files = attachments_check(fields.get("attachments") or [])
    mine.status = AssignmentStatus.SUBMITTED
    mine.result = result
    mine.findings = findings
    mine.submitted_at = now
    mine.submitted_by = actor
    mine.save(update_fields=["status", "result", "findings", "submitted_at", "submitted_by"])
    _withdraw_pending_extension(mine, actor, now, _("已提交核查结果，延期申请撤回。"))
    mine.pending_extension = None
    data = {"unit": mine.unit.code, "result": result, "findings": findings}
    if signed is not None:
        data["signed_by"] = signed.signer_name
        data["signed_at"] = signed.signed_at.isoformat()
    from .practice import report_back_record  # noqa: PLC0415 — practice imports this module

    return Step(
        assignment=mine,
        note=note,
        data=data,
        files=files,
        after=[report_back_record(assignment=mine, kind="final", body=findings, actor=actor, now=now)],
    )


def _do_return(lead, actor, now, note, assignments, fields) -> Step:
    target = _target_assignment(
        fields, assignments, [AssignmentStatus.SUBMITTED], _("只能退回已反馈核查结果的分办任务。")
    )
    note = _require_note(note, _("请填写退回重查的理由。"))
    days = _int_field(fields, "days", required=False, maximum=250) or leads_setting("REVERIFY_DEADLINE_DAYS")
    previous = {"result": target.result, "findings": target.findings}
    target.status = AssignmentStatus.ACCEPTED
    target.result = ""
    target.submitted_at = None
    target.returned_count += 1
    target.deadline = workdays.add_workdays(now, days)
    target.escalation_level = 0
    target.escalated_at = None
    # A new result needs a new signature; the old draft stays to start from.
    target.signoff = None
    target.signoff_requested_at = None
    target.save(
        update_fields=[
            "status",
            "result",
            "submitted_at",
            "returned_count",
            "deadline",
            "escalation_level",
            "escalated_at",
            "signoff",
            "signoff_requested_at",
        ]
    )
    return Step(
        assignment=target,
        note=note,
        data={"unit": target.unit.code, "previous": previous, "deadline": target.deadline.isoformat()},
    )


def _do_reassign(lead, actor, now, note, assignments, fields) -> Step:
    target = _target_assignment(
        fields,
        [
            a
            for a in assignments
            if a.is_active or (a.status == AssignmentStatus.SENT_BACK and a.closed_at is None)
        ],
        set(AssignmentStatus.values),
        _("请选择要改派的分办任务。"),
    )
    units = _resolve_units(fields.get("units"))
    if target.unit in units:
        raise TransitionError.field("units", _("改派单位不能与原承办单位相同。"))
    if target.is_active:
        target.status = AssignmentStatus.WITHDRAWN
        _withdraw_pending_extension(target, actor, now, _("已改派，延期申请撤回。"))
        target.pending_extension = None
    else:
        # Reassigning a pending send-back is agreeing to it (同意退单).
        SendBack.objects.filter(assignment=target, decision=SendBack.Decision.PENDING).update(
            decision=SendBack.Decision.ACCEPTED, decided_by=actor, decided_at=now, decision_note=note
        )
    target.closed_at = now
    target.save(update_fields=["status", "closed_at"])
    was_primary = target.is_primary
    days = _int_field(fields, "days", required=False, maximum=250)
    created = _create_assignments(
        lead=lead,
        units=units,
        actor=actor,
        now=now,
        days=days,
        assignments=assignments,
        reasons=fields.get("reasons"),
    )
    if was_primary and not created[0].is_primary:
        created[0].is_primary = True
        created[0].save(update_fields=["is_primary"])
    assignments.extend(created)
    return Step(
        assignment=target,
        note=note,
        data={
            "from_unit": target.unit.code,
            "from_unit_name": _unit_label(target.unit),
            "units": [u.code for u in units],
            "unit_names": [_unit_label(u) for u in units],
            "deadline": created[0].deadline.isoformat(),
        },
    )


def _do_close(lead, actor, now, note, assignments, fields) -> Step:
    disposition = fields.get("disposition") or ""
    if disposition not in Disposition.values:
        raise TransitionError.field("disposition", _("请选择办结方式。"))
    result = fields.get("result") or derive_result(assignments)
    if result not in Result.values:
        raise TransitionError.field("result", _("请选择核查结论。"))
    # A closure never claims more than the verification found (DESIGN.md).
    if disposition in (Disposition.CRIMINAL_CASE, Disposition.ADMINISTRATIVE_PENALTY) and result not in (
        Result.SUBSTANTIATED,
        Result.PARTLY,
    ):
        raise TransitionError.field(
            "disposition",
            _("核查结论为“%(result)s”的线索不能以“%(disposition)s”办结。")
            % {"result": Result(result).label, "disposition": Disposition(disposition).label},
        )
    from .practice import closure_signoff_check, lead_keys_store  # noqa: PLC0415

    signoff = closure_signoff_check(lead=lead, actor=actor, now=now, result=result, assignments=assignments)
    refer = disposition == Disposition.DISCIPLINE_REFERRAL or bool(fields.get("refer_discipline"))
    conclusion = (fields.get("public_conclusion") or "").strip()
    lead.status = LeadStatus.CLOSED
    lead.disposition = disposition
    lead.result = result
    lead.closing_note = note
    lead.public_conclusion = conclusion
    lead.closed_at = now
    lead.closed_by = actor
    if refer and not lead.discipline_referred:
        lead.discipline_referred = True
        lead.discipline_referred_at = now
    data = {"disposition": disposition, "result": result, "referred": refer, "public_conclusion": conclusion}
    if signoff is not None:
        data["signed_by"] = signoff.signer_name
        data["signed_at"] = signoff.signed_at.isoformat()
    if result == Result.UNSUBSTANTIATED:
        # What the lead named, kept so a later tip naming it again is flagged for review (评查).
        data["keys"] = lead_keys_store(lead=lead)
    return Step(
        note=note,
        data=data,
        public_status=PublicStatus.CONCLUDED,
        conclusion=conclusion,
    )


def _do_reopen(lead, actor, now, note, assignments, fields) -> Step:
    note = _require_note(note, _("请填写重新启动的理由。"))
    previous = {
        "disposition": lead.disposition,
        "result": lead.result,
        "closed_at": lead.closed_at.isoformat(),
    }
    lead.status = LeadStatus.REGISTERED  # re-derived from the assignments below
    lead.disposition = ""
    lead.result = ""
    lead.closed_at = None
    lead.closed_by = None
    from .practice import lead_reopen_cleanup  # noqa: PLC0415

    lead_reopen_cleanup(lead=lead, actor=actor, now=now, note=note)
    return Step(note=note, data={"previous": previous}, public_status=PublicStatus.VERIFYING)


def _do_merge(lead, actor, now, note, assignments, fields) -> Step:
    tip_ids = fields.get("tips") or []
    if isinstance(tip_ids, int | str):
        tip_ids = [tip_ids]
    try:
        tip_ids = sorted({int(t) for t in tip_ids})
    except (TypeError, ValueError):
        raise TransitionError.field("tips", _("举报编号无效。"))
    if not tip_ids:
        raise TransitionError.field("tips", _("请选择要并入的举报。"))
    tips = _lock_new_tips(tip_ids)
    for tip in tips:
        LeadTip.objects.create(lead=lead, tip=tip, kind=LeadTip.Kind.MERGED, added_at=now, added_by=actor)
        tip_record_triage(
            tip_id=tip.pk,
            status=TipStatus.MERGED,
            actor=actor,
            note=note or _("并入线索 %(number)s") % {"number": lead.number},
            unit=_primary_unit(assignments),
        )
    public = PUBLIC_STATUS_FOR.get(lead.status)
    if public and public != PublicStatus.ACCEPTED:
        tip_set_public_status(tip_ids=tip_ids, public_status=public, actor=actor)
    if lead.restricted:
        # Merged into a restricted lead: the tips leave the register for everyone outside its circle.
        from .practice import tips_restriction_sync  # noqa: PLC0415

        tips_restriction_sync(lead=lead, actor=actor, reason=note, tip_ids=tip_ids)
    return Step(note=note, data={"tips": tip_ids, "tracking_codes": [t.tracking_code for t in tips]})


HANDLERS = {
    "assign": _do_assign,
    "accept": _do_accept,
    "send_back": _do_send_back,
    "request_extension": _do_request_extension,
    "approve_extension": _do_approve_extension,
    "refuse_extension": _do_refuse_extension,
    "submit_result": _do_submit_result,
    "return_for_reverification": _do_return,
    "reassign": _do_reassign,
    "close": _do_close,
    "reopen": _do_reopen,
    "merge": _do_merge,
}


def _handler(action: str):
    if action in HANDLERS:
        return HANDLERS[action]
    # Issue 11's actions live in leads/practice.py, which builds on the helpers of this module.
    from .practice import PRACTICE_HANDLERS  # noqa: PLC0415

    return PRACTICE_HANDLERS[action]


def _primary_unit(assignments: list[Assignment]) -> Unit | None:
    active = [a for a in assignments if a.is_active]
    active.sort(key=lambda a: (not a.is_primary, a.pk or 0))
    return active[0].unit if active else None


def _lock_new_tips(tip_ids: list[int]) -> list[Tip]:
    """Lock tips in id order (one order everywhere, so two triagers never deadlock) and check each is new."""
    tips = list(Tip.objects.select_for_update().filter(pk__in=tip_ids).order_by("pk"))
    if len(tips) != len(set(tip_ids)):
        raise TransitionError.field("tips", _("举报不存在。"))
    linked = set(LeadTip.objects.filter(tip_id__in=tip_ids).values_list("tip_id", flat=True))
    for tip in tips:
        if tip.status != TipStatus.NEW or tip.pk in linked:
            raise TransitionError(
                _("举报 %(code)s 已研判（%(status)s），不能重复处理。")
                % {"code": tip.tracking_code, "status": tip.get_status_display()},
                {"tips": [_("举报 %(code)s 已研判。") % {"code": tip.tracking_code}]},
                kind="state",
            )
    return tips


def _save_files(lead: Lead, step: Step, event: LeadEvent, actor: User, now) -> None:
    """Store the step's files. Called last in the transaction, so a later failure can only be the commit."""
    saved: list[LeadAttachment] = []
    try:
        for item in step.files or []:
            att = LeadAttachment(
                lead=lead,
                assignment=step.assignment,
                event=event,
                name=item["name"],
                content_type=item["content_type"],
                size=item["size"],
                sha256=item["sha256"],
                uploaded_by=actor,
                uploaded_at=now,
            )
            att.file.save(item["name"], item["file"], save=False)
            saved.append(att)
            att.save()
    except Exception:
        for att in saved:
            att.file.delete(save=False)
        raise


@transaction.atomic
def lead_transition(
    *,
    lead_id: int,
    action: str,
    actor: User,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    **fields,
) -> Lead:
    """Apply one workflow action to a lead.

    Locks the lead row; raises VersionConflict when `expected_version` is given and stale, and
    TransitionError when the table or the lead's assignments do not allow the action (or input is
    missing). Assignment-level actions act on the actor's own unit's assignment.
    """
    now = now or timezone.now()
    lead = Lead.objects.select_for_update().select_related("sector", "region").get(pk=lead_id)
    if expected_version is not None and int(expected_version) != lead.version:
        raise VersionConflict(lead)
    assignments = _assignments_for_check(lead)
    error = action_error(action, lead, actor, assignments, now)
    if error:
        raise error
    old_status = lead.status
    step = _handler(action)(lead, actor, now, (note or "").strip(), assignments, fields)
    return _finish(
        lead=lead,
        action=action,
        actor=actor,
        now=now,
        old_status=old_status,
        step=step,
        assignments=assignments,
    )


_LEAD_STATE_FIELDS = [
    "status",
    "deadline",
    "verified_at",
    "version",
    "disposition",
    "result",
    "closing_note",
    "public_conclusion",
    "closed_at",
    "closed_by",
    "discipline_referred",
    "discipline_referred_at",
    "closure_signoff",
    "review_pending",
    "escalated_handling",
    "restricted",
    "priority",
]


def _finish(*, lead, action, actor, now, old_status, step: Step, assignments) -> Lead:
    if lead.status != LeadStatus.CLOSED:
        lead.status = derive_status(lead, assignments)
    if lead.status not in (LeadStatus.VERIFIED, LeadStatus.CLOSED):
        # The office leader signed off the results as they stood; a lead that is verifying again needs
        # a new signature before a 查否 closure.
        lead.closure_signoff = None
    open_deadlines = [a.deadline for a in assignments if a.status in OPEN_ASSIGNMENT_STATUSES]
    lead.deadline = min(open_deadlines) if open_deadlines else None
    if lead.status == LeadStatus.VERIFIED and old_status != LeadStatus.VERIFIED:
        lead.verified_at = now
    lead.version += 1
    lead.save(update_fields=_LEAD_STATE_FIELDS)
    event = LeadEvent.objects.create(
        lead=lead,
        assignment=step.assignment,
        at=now,
        actor=actor,
        action=action,
        from_status=old_status,
        to_status=lead.status,
        note=step.note,
        data=step.data or {},
    )
    for callback in step.after or []:
        callback(event)
    public = step.public_status or (PUBLIC_STATUS_FOR.get(lead.status) if lead.status != old_status else None)
    if public:
        tip_ids = list(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True))
        if tip_ids:
            tip_set_public_status(
                tip_ids=tip_ids, public_status=public, actor=actor, conclusion=step.conclusion
            )
            from .practice import informant_feedback_send  # noqa: PLC0415

            informant_feedback_send(lead=lead, tip_ids=tip_ids, public_status=public, event=event)
    _notify(lead=lead, action=action, actor=actor, step=step, event=event)
    _save_files(lead, step, event, actor, now)
    return lead


# --- registration --------------------------------------------------------------------------------
@transaction.atomic
def lead_register(
    *,
    actor: User,
    sector: Sector,
    region: Region,
    summary: str,
    priority: str = Priority.NORMAL,
    accused: str = "",
    source: LeadSource | None = None,
    origin_reference: str = "",
    restricted: bool = False,
    tip_ids: Iterable[int] = (),
    units: Iterable = (),
    days: int | None = None,
    note: str = "",
    reasons: dict | None = None,
    now: dt.datetime | None = None,
) -> Lead:
    """Register a lead (受理登记) from tips or directly, and assign it at once when units are given."""
    now = now or timezone.now()
    error = table_error("", "register", getattr(actor, "role", ""))
    if error:
        raise error
    errors: dict[str, list[str]] = {}
    if not (summary or "").strip():
        errors["summary"] = [_("请填写线索摘要。")]
    if sector is None:
        errors["sector"] = [_("请选择行业领域。")]
    if region is None:
        errors["region"] = [_("请选择发生地区。")]
    if priority not in Priority.values:
        errors["priority"] = [_("紧急程度无效。")]
    if errors:
        raise TransitionError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    tip_ids = sorted({int(t) for t in tip_ids})
    tips = _lock_new_tips(tip_ids) if tip_ids else []
    if source is None and tips:
        source = lead_source_default()
    year = timezone.localtime(now).year
    lead = Lead.objects.create(
        number=lead_numbers_reserve(year=year)[0],
        year=year,
        source=source,
        origin_reference=origin_reference,
        summary=summary.strip(),
        accused=(accused or "").strip(),
        sector=sector,
        region=region,
        priority=priority,
        restricted=restricted,
        created_by=actor,
        created_at=now,
    )
    unit_list = _resolve_units(list(units)) if units else []
    for i, tip in enumerate(tips):
        LeadTip.objects.create(
            lead=lead,
            tip=tip,
            kind=LeadTip.Kind.REGISTERED if i == 0 else LeadTip.Kind.MERGED,
            added_at=now,
            added_by=actor,
        )
        tip_record_triage(
            tip_id=tip.pk,
            status=TipStatus.REGISTERED if i == 0 else TipStatus.MERGED,
            actor=actor,
            note=note or _("登记为线索 %(number)s") % {"number": lead.number},
            unit=unit_list[0] if unit_list else None,
        )
    if restricted and tips:
        # Registered restricted from tips: they leave the register for everyone outside the lead's circle.
        from .practice import tips_restriction_sync  # noqa: PLC0415

        tips_restriction_sync(lead=lead, actor=actor, reason=note, tip_ids=[t.pk for t in tips])
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        action="register",
        from_status="",
        to_status=LeadStatus.REGISTERED,
        note=note,
        data={"tips": tip_ids, "tracking_codes": [t.tracking_code for t in tips]},
    )
    if unit_list:
        assignments: list[Assignment] = []
        step = _do_assign(
            lead, actor, now, "", assignments, {"units": unit_list, "days": days, "reasons": reasons}
        )
        _finish(
            lead=lead,
            action="assign",
            actor=actor,
            now=now,
            old_status=LeadStatus.REGISTERED,
            step=step,
            assignments=assignments,
        )
    return lead


# --- tip triage ----------------------------------------------------------------------------------
TRIAGE_ROLES = frozenset({Role.OFFICE})
TRIAGE_ACTIONS = ("register", "merge", "duplicate", "reject")


@dataclass
class TriageOutcome:
    tip: Tip
    lead: Lead | None = None


def _triage_check(actor: User) -> None:
    if getattr(actor, "role", None) not in TRIAGE_ROLES:
        role = Role(actor.role).label if getattr(actor, "role", None) in Role.values else ""
        raise TransitionError(_("%(role)s无权研判举报。") % {"role": role}, kind="forbidden")


@transaction.atomic
def tip_triage(
    *,
    tip_id: int,
    action: str,
    actor: User,
    note: str = "",
    lead_id: int | None = None,
    duplicate_of_id: int | None = None,
    expected_version: int | None = None,
    **register_fields,
) -> TriageOutcome:
    """The office's decision on a new tip: register as a lead, merge into a lead, mark duplicate, reject."""
    _triage_check(actor)
    if action not in TRIAGE_ACTIONS:
        raise TransitionError.field("action", _("研判方式无效。"))
    tip = _lock_new_tips([tip_id])[0]
    note = (note or "").strip()
    if action == "register":
        sector = register_fields.pop("sector", None) or tip.sector
        region = register_fields.pop("region", None) or tip.region
        summary = register_fields.pop("summary", None) or tip.description
        accused = register_fields.pop("accused", None)
        lead = lead_register(
            actor=actor,
            sector=sector,
            region=region,
            summary=summary,
            accused=tip.accused if accused is None else accused,
            tip_ids=[tip.pk],
            note=note,
            **register_fields,
        )
        tip.refresh_from_db()
        return TriageOutcome(tip=tip, lead=lead)
    if action == "merge":
        if not lead_id:
            raise TransitionError.field("lead", _("请选择要并入的线索。"))
        if not Lead.objects.filter(pk=lead_id).exists():
            raise TransitionError.field("lead", _("线索不存在。"))
        lead = lead_transition(
            lead_id=lead_id,
            action="merge",
            actor=actor,
            note=note,
            tips=[tip.pk],
            expected_version=expected_version,
        )
        tip.refresh_from_db()
        return TriageOutcome(tip=tip, lead=lead)
    if action == "duplicate":
        if (
            not duplicate_of_id
            or int(duplicate_of_id) == tip.pk
            or not Tip.objects.filter(pk=duplicate_of_id).exists()
        ):
            raise TransitionError.field("duplicate_of", _("请填写与之重复的举报。"))
        tip = tip_record_triage(
            tip_id=tip.pk,
            status=TipStatus.DUPLICATE,
            actor=actor,
            note=note,
            duplicate_of_id=int(duplicate_of_id),
        )
        return TriageOutcome(tip=tip)
    note = _require_note(note, _("请填写不予受理的理由。"))
    tip = tip_record_triage(tip_id=tip.pk, status=TipStatus.REJECTED, actor=actor, note=note)
    return TriageOutcome(tip=tip)


def tip_triage_bulk(
    *,
    tip_ids: list[int],
    action: str,
    actor: User,
    note: str = "",
    lead_id: int | None = None,
    proposals: dict[int, list] | None = None,
) -> tuple[list[TriageOutcome], dict[int, str]]:
    """Bulk triage. "register_each": each tip its own lead, assigned to its proposed units;
    "register_one": all tips as one lead; "merge": all into one lead; "reject": all with one reason.

    Each tip (or the one new lead) is its own transaction, so one tip that someone else triaged in the
    meantime does not undo the rest; the errors are returned per tip.
    """
    _triage_check(actor)
    done: list[TriageOutcome] = []
    errors: dict[int, str] = {}
    tip_ids = sorted({int(t) for t in tip_ids})
    if not tip_ids:
        raise TransitionError.field("tips", _("请先勾选举报。"))
    if action == "register_one":
        first = Tip.objects.select_related("sector", "region").get(pk=tip_ids[0])
        if first.sector is None or first.region is None:
            raise TransitionError.field("tips", _("第一条举报缺少行业领域或发生地区，请逐条研判。"))
        units = [p.unit for p in (proposals or {}).get(first.pk, [])]
        with transaction.atomic():
            lead = lead_register(
                actor=actor,
                sector=first.sector,
                region=first.region,
                summary=first.description,
                accused=first.accused,
                tip_ids=tip_ids,
                units=units,
                note=note,
                reasons={p.unit.code: p.reason for p in (proposals or {}).get(first.pk, [])},
            )
        return [TriageOutcome(tip=t, lead=lead) for t in Tip.objects.filter(pk__in=tip_ids)], {}
    if action == "reject" and not (note or "").strip():
        raise TransitionError.field("note", _("请填写不予受理的理由。"))
    if action == "merge" and not lead_id:
        raise TransitionError.field("lead", _("请选择要并入的线索。"))
    for tip_id in tip_ids:
        try:
            with transaction.atomic():
                if action == "register_each":
                    props = (proposals or {}).get(tip_id, [])
                    outcome = tip_triage(
                        tip_id=tip_id,
                        action="register",
                        actor=actor,
                        note=note,
                        units=[p.unit for p in props],
                        reasons={p.unit.code: p.reason for p in props},
                    )
                elif action == "merge":
                    outcome = tip_triage(
                        tip_id=tip_id, action="merge", actor=actor, note=note, lead_id=lead_id
                    )
                elif action == "reject":
                    outcome = tip_triage(tip_id=tip_id, action="reject", actor=actor, note=note)
                else:
                    raise TransitionError.field("action", _("批量操作无效。"))
            done.append(outcome)
        except TransitionError as exc:
            errors[tip_id] = exc.message
    return done, errors


# --- notifications -------------------------------------------------------------------------------
PRACTICE_NOTICES = frozenset(
    {
        "report_first",
        "report_stage",
        "request_stage_report",
        "request_sign_off",
        "sign_off",
        "decline_sign_off",
        "refuse_send_back",
    }
)


def _notify(*, lead: Lead, action: str, actor: User, step: Step, event: LeadEvent) -> None:
    """In-app notifications (with mail through the outbox) in the same transaction as the step."""
    try:
        from campaign.notifications import notify, users_for_unit
    except ImportError:  # the notification centre is optional for the workflow
        return
    url = reverse("leads:detail", args=[lead.pk])
    key = f"lead-event:{event.pk}"
    if action in ("assign", "reassign", "accept_send_back", "review_escalate"):
        from .practice import sign_for_prompt  # noqa: PLC0415

        for code in (step.data or {}).get("units", []):
            sign_for_prompt(lead=lead, unit=Unit.objects.get(code=code), url=url, key=f"{key}:{code}")
    elif action in ("send_back", "request_extension", "submit_result"):
        unit = step.assignment.unit if step.assignment else None
        titles = {
            "send_back": _("%(unit)s对线索 %(number)s 退单，请处理"),
            "request_extension": _("%(unit)s申请线索 %(number)s 延期，请审批"),
            "submit_result": _("%(unit)s已反馈线索 %(number)s 的核查结果，请审核"),
        }
        from .practice import office_audience  # noqa: PLC0415

        notify(
            users=office_audience(lead).exclude(pk=actor.pk),
            kind=f"lead_{action}",
            title=titles[action] % {"unit": _unit_label(unit) if unit else "", "number": lead.number},
            url=url,
            dedupe_key=key,
            email=False,
        )
    elif action in ("return_for_reverification", "approve_extension", "refuse_extension") and step.assignment:
        titles = {
            "return_for_reverification": _("线索 %(number)s 的核查结果被退回重查"),
            "approve_extension": _("线索 %(number)s 的延期申请已同意"),
            "refuse_extension": _("线索 %(number)s 的延期申请未获同意"),
        }
        notify(
            users=users_for_unit(step.assignment.unit),
            kind=f"lead_{action}",
            title=titles[action] % {"number": lead.number},
            body=step.note,
            url=url,
            dedupe_key=key,
        )
    elif action in PRACTICE_NOTICES:
        from .practice import practice_notify  # noqa: PLC0415

        practice_notify(lead=lead, action=action, actor=actor, step=step, url=url, key=key)
    elif action == "close" and lead.discipline_referred:
        notify(
            users=User.objects.filter(role=Role.DISCIPLINE, is_active=True),
            kind="lead_referred",
            title=_("市扫黑办移送线索 %(number)s") % {"number": lead.number},
            url=url,
            dedupe_key=key,
        )
