"""Case-handling practice (issue 11): the workflow handlers for sign-for, send-back arbitration,
report-backs, sign-offs, repeat-report review and restricted leads, plus the writes that go with them —
call-backs, SMS to liaisons and informants, and the identifiers a 查否 closure keeps for review.

Every handler here runs inside `leads.services.lead_transition` (the lead row locked, the table checked,
the event and version written by `_finish`); the other writes follow the same habits: keyword-only
arguments, one transaction, rows locked before they change, a timeline event in the same transaction,
mail and SMS through the outbox after commit.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import random

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign import workdays
from campaign.audit import audit_record
from campaign.models import Unit, User
from campaign.roles import Role
from reports.models import PublicStatus, Tip

from .attachments import attachments_check
from .conf import leads_setting
from .linking import Kind, company_key, distinct, extract_entities, mask
from .models import (
    Assignment,
    AssignmentStatus,
    CallBack,
    Lead,
    LeadEvent,
    LeadKey,
    LeadReview,
    LeadStatus,
    LeadTip,
    Priority,
    RepeatReport,
    ReportBack,
    Result,
    SendBack,
    SignOff,
    StageReportRequest,
)
from .services import (
    Step,
    _create_assignments,
    _do_reassign,
    _int_field,
    _mine,
    _require_note,
    _resolve_units,
    _target_assignment,
    _unit_label,
    derive_result,
    signoff_fingerprint,
)
from .workflow import TransitionError

log = logging.getLogger(__name__)

ACCEPTED = [AssignmentStatus.ACCEPTED]


def _validated_result(fields: dict) -> tuple[str, str]:
    result = fields.get("result") or ""
    findings = (fields.get("findings") or "").strip()
    errors = {}
    if result not in Result.values:
        errors["result"] = [_("请选择核查结论。")]
    if not findings:
        errors["findings"] = [_("请填写核查情况。")]
    if errors:
        raise TransitionError(_("请填写核查结论和核查情况。"), errors)
    return result, findings


def _signer_title(user: User, fallback: str) -> str:
    return (user.title or fallback)[:80]


# --- report-backs (回告) ----------------------------------------------------------------------------
def report_back_record(
    *,
    assignment: Assignment,
    kind: str,
    body: str,
    actor: User,
    now: dt.datetime,
    stage_request: StageReportRequest | None = None,
    due_at: dt.datetime | None = None,
):
    """A callback for Step.after: the ReportBack row, pointing at its timeline event (and its files)."""

    def record(event: LeadEvent) -> None:
        ReportBack.objects.create(
            assignment=assignment,
            lead_id=assignment.lead_id,
            kind=kind,
            body=body,
            stage_request=stage_request,
            event=event,
            created_by=actor,
            created_at=now,
            due_at=due_at if kind != ReportBack.Kind.FINAL else assignment.deadline,
        )

    return record


def _do_report_first(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, ACCEPTED)
    body = _require_note(note, _("请填写回告内容。"))
    files = attachments_check(fields.get("attachments") or [])
    late = mine.first_report_due is not None and now > mine.first_report_due
    mine.first_report_at = now
    mine.save(update_fields=["first_report_at"])
    return Step(
        assignment=mine,
        note=body,
        data={"unit": mine.unit.code, "kind": "first", "late": late},
        files=files,
        after=[
            report_back_record(
                assignment=mine, kind="first", body=body, actor=actor, now=now, due_at=mine.first_report_due
            )
        ],
    )


def _do_report_stage(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, ACCEPTED)
    body = _require_note(note, _("请填写回告内容。"))
    files = attachments_check(fields.get("attachments") or [])
    request = (
        StageReportRequest.objects.select_for_update()
        .filter(assignment=mine, status=StageReportRequest.Status.PENDING)
        .first()
    )
    data = {"unit": mine.unit.code, "kind": "stage"}
    if request is not None:
        request.status = StageReportRequest.Status.FULFILLED
        request.fulfilled_at = now
        request.save(update_fields=["status", "fulfilled_at"])
        mine.pending_stage = None
        data.update(request=request.pk, late=now > request.due_at)
    return Step(
        assignment=mine,
        note=body,
        data=data,
        files=files,
        after=[
            report_back_record(
                assignment=mine,
                kind="stage",
                body=body,
                actor=actor,
                now=now,
                stage_request=request,
                due_at=request.due_at if request else None,
            )
        ],
    )


def _do_request_stage_report(lead, actor, now, note, assignments, fields) -> Step:
    candidates = [
        a
        for a in assignments
        if a.status == AssignmentStatus.ACCEPTED and not getattr(a, "pending_stage", None)
    ]
    target = _target_assignment(
        fields, candidates, set(ACCEPTED), _("请选择正在核查、且没有待回告要求的承办单位。")
    )
    note = _require_note(note, _("请填写阶段回告的要求。"))
    days = _int_field(fields, "days", required=False, maximum=60) or leads_setting("STAGE_REPORT_WORKDAYS")
    request = StageReportRequest.objects.create(
        assignment=target,
        lead=lead,
        note=note,
        requested_by=actor,
        requested_at=now,
        due_at=workdays.add_workdays(now, days),
    )
    target.pending_stage = request.pk
    return Step(
        assignment=target,
        note=note,
        data={"unit": target.unit.code, "request": request.pk, "due_at": request.due_at.isoformat()},
    )


# --- sign-offs (签字背书) ---------------------------------------------------------------------------
def _do_request_sign_off(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, ACCEPTED)
    result, findings = _validated_result(fields)
    if not User.objects.filter(role=Role.UNIT_HEAD, unit_id=mine.unit_id, is_active=True).exists():
        raise TransitionError(_("贵单位尚未设置第一责任人账号，无法签字背书，请联系市扫黑办。"), kind="state")
    files = attachments_check(fields.get("attachments") or [])
    mine.draft_result = result
    mine.draft_findings = findings
    mine.signoff_requested_at = now
    mine.signoff_requested_by = actor
    mine.signoff = None
    mine.save(
        update_fields=[
            "draft_result",
            "draft_findings",
            "signoff_requested_at",
            "signoff_requested_by",
            "signoff",
        ]
    )
    return Step(
        assignment=mine,
        note=note,
        data={"unit": mine.unit.code, "result": result, "findings": findings},
        files=files,
    )


def _do_sign_off(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, ACCEPTED)
    signoff = SignOff.objects.create(
        lead=lead,
        assignment=mine,
        kind=SignOff.Kind.UNIT_RESULT,
        result=mine.draft_result,
        fingerprint=signoff_fingerprint(mine.draft_result, mine.draft_findings),
        signed_by=actor,
        signer_name=str(actor)[:40],
        signer_title=_signer_title(actor, _("第一责任人")),
        signed_at=now,
        note=note,
    )
    mine.signoff = signoff
    mine.save(update_fields=["signoff"])
    return Step(
        assignment=mine,
        note=note,
        data={"unit": mine.unit.code, "result": mine.draft_result, "signoff": signoff.pk},
    )


def _do_decline_sign_off(lead, actor, now, note, assignments, fields) -> Step:
    mine = _mine(lead, actor, assignments, ACCEPTED)
    note = _require_note(note, _("请填写退回修改的意见。"))
    mine.signoff_requested_at = None
    mine.save(update_fields=["signoff_requested_at"])
    return Step(assignment=mine, note=note, data={"unit": mine.unit.code})


def closure_fingerprint(assignments, result: str) -> str:
    """What an office leader signs for a closure: every unit's result and findings, and the conclusion."""
    parts = sorted(
        f"{a.pk}:{a.result}:{signoff_fingerprint(a.result, a.findings)}"
        for a in assignments
        if a.status == AssignmentStatus.SUBMITTED
    )
    return hashlib.sha256(("|".join(parts) + f"#{result}").encode()).hexdigest()


def _closure_signoff_create(*, lead, actor, now, result, assignments, note: str) -> SignOff:
    signoff = SignOff.objects.create(
        lead=lead,
        kind=SignOff.Kind.CLOSURE,
        result=result,
        fingerprint=closure_fingerprint(assignments, result),
        signed_by=actor,
        signer_name=str(actor)[:40],
        signer_title=_signer_title(actor, _("市扫黑办领导")),
        signed_at=now,
        note=note,
    )
    lead.closure_signoff = signoff
    return signoff


def _do_sign_off_closure(lead, actor, now, note, assignments, fields) -> Step:
    result = fields.get("result") or derive_result(assignments)
    if result not in Result.values:
        raise TransitionError.field("result", _("请选择核查结论。"))
    signoff = _closure_signoff_create(
        lead=lead, actor=actor, now=now, result=result, assignments=assignments, note=note
    )
    return Step(note=note, data={"result": result, "signoff": signoff.pk})


def closure_signoff_check(*, lead, actor, now, result: str, assignments) -> SignOff | None:
    """The office leader's sign-off a closure carries. 查否 needs one that covers the results as they
    stand; an office leader who closes signs by closing. Other results carry one if it was given."""
    signoff = lead.closure_signoff if lead.closure_signoff_id else None
    valid = (
        signoff is not None
        and signoff.result == result
        and signoff.fingerprint == closure_fingerprint(assignments, result)
    )
    if result != Result.UNSUBSTANTIATED or not leads_setting("REQUIRE_LEADER_SIGN_OFF_UNSUBSTANTIATED"):
        return signoff if valid else None
    if valid:
        return signoff
    if getattr(actor, "is_office_leader", False):
        return _closure_signoff_create(
            lead=lead,
            actor=actor,
            now=now,
            result=result,
            assignments=assignments,
            note=_("办结时签字背书。"),
        )
    message = _("以“查否（不属实）”办结须经办领导签字背书，请先由办领导“签字背书”。")
    raise TransitionError(message, {"result": [message]}, kind="state")


# --- send-back arbitration (退单裁定) ----------------------------------------------------------------
def _pending_send_backs(assignments) -> list[Assignment]:
    return [a for a in assignments if a.status == AssignmentStatus.SENT_BACK and a.closed_at is None]


def _do_accept_send_back(lead, actor, now, note, assignments, fields) -> Step:
    target = _target_assignment(
        fields, _pending_send_backs(assignments), {AssignmentStatus.SENT_BACK}, _("请选择待裁定的退单。")
    )
    fields = {**fields, "assignment": target.pk}
    fields.pop("unit", None)
    # Reassigning the sent-back assignment settles the send-back as accepted (leads.services).
    step = _do_reassign(lead, actor, now, note, assignments, fields)
    step.data["send_back"] = "accepted"
    return step


def _do_refuse_send_back(lead, actor, now, note, assignments, fields) -> Step:
    target = _target_assignment(
        fields, _pending_send_backs(assignments), {AssignmentStatus.SENT_BACK}, _("请选择待裁定的退单。")
    )
    note = _require_note(note, _("请填写不同意退单的理由。"))
    if any(a.unit_id == target.unit_id and a.is_active for a in assignments):
        raise TransitionError.field("assignment", _("该单位已有新的分办任务，无需裁定。"))
    send_back = (
        SendBack.objects.select_for_update()
        .filter(assignment=target, decision=SendBack.Decision.PENDING)
        .first()
    )
    previous = (
        send_back.status_before
        if send_back
        else (AssignmentStatus.ACCEPTED if target.accepted_at else AssignmentStatus.ASSIGNED)
    )
    # The unit keeps it, on its original deadline: a refused send-back buys no time.
    target.status = previous
    target.closed_at = None
    target.send_back_refused = True
    target.save(update_fields=["status", "closed_at", "send_back_refused"])
    if send_back is not None:
        send_back.decision = SendBack.Decision.REFUSED
        send_back.decided_by = actor
        send_back.decided_at = now
        send_back.decision_note = note
        send_back.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    return Step(
        assignment=target,
        note=note,
        data={"unit": target.unit.code, "restored": previous, "deadline": target.deadline.isoformat()},
    )


# --- review (评查) ----------------------------------------------------------------------------------
def _pending_review(lead) -> LeadReview:
    review = (
        LeadReview.objects.select_for_update().filter(lead=lead, status=LeadReview.Status.PENDING).first()
    )
    if review is None:
        raise TransitionError(_("该线索没有待评查事项。"), kind="state")
    return review


def _reopen(lead) -> dict:
    previous = {
        "disposition": lead.disposition,
        "result": lead.result,
        "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
    }
    lead.status = LeadStatus.REGISTERED  # re-derived from the assignments by _finish
    lead.disposition = ""
    lead.result = ""
    lead.closed_at = None
    lead.closed_by = None
    LeadKey.objects.filter(lead=lead).delete()
    return previous


def _do_review_escalate(lead, actor, now, note, assignments, fields) -> Step:
    review = _pending_review(lead)
    note = _require_note(note, _("请填写提级办理的理由。"))
    units = _resolve_units(fields.get("units"))
    if not units:
        raise TransitionError.field("units", _("请选择提级办理的承办单位。"))
    handled = {a.unit_id for a in assignments if a.status == AssignmentStatus.SUBMITTED}
    if any(u.pk in handled for u in units):
        raise TransitionError.field("units", _("提级办理须交由原承办单位以外的其他单位或上级单位。"))
    previous = _reopen(lead)
    lead.escalated_handling = True
    if lead.priority == Priority.NORMAL:
        lead.priority = Priority.HIGH
    lead.review_pending = False
    days = _int_field(fields, "days", required=False, maximum=250)
    created = _create_assignments(
        lead=lead, units=units, actor=actor, now=now, days=days, assignments=assignments
    )
    assignments.extend(created)
    review.status = LeadReview.Status.ESCALATED
    review.decided_by = actor
    review.decided_at = now
    review.decision_note = note
    review.units = [u.code for u in units]
    review.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "units"])
    return Step(
        note=note,
        data={
            "review": review.pk,
            "previous": previous,
            "units": [u.code for u in units],
            "unit_names": [_unit_label(u) for u in units],
            "deadline": created[0].deadline.isoformat(),
        },
        public_status=PublicStatus.VERIFYING,
    )


def _do_review_confirm(lead, actor, now, note, assignments, fields) -> Step:
    review = _pending_review(lead)
    note = _require_note(note, _("请填写维持原结论的理由。"))
    review.status = LeadReview.Status.CONFIRMED
    review.decided_by = actor
    review.decided_at = now
    review.decision_note = note
    review.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    lead.review_pending = False
    return Step(note=note, data={"review": review.pk})


def lead_reopen_cleanup(*, lead, actor, now, note: str) -> None:
    """A plain reopen answers a pending review too (the office reopened rather than confirmed)."""
    LeadKey.objects.filter(lead=lead).delete()
    if lead.review_pending:
        LeadReview.objects.filter(lead=lead, status=LeadReview.Status.PENDING).update(
            status=LeadReview.Status.ESCALATED, decided_by=actor, decided_at=now, decision_note=note
        )
        lead.review_pending = False


# --- restricted leads (限制知悉范围) ------------------------------------------------------------------
def _audit(action: str, actor, lead, note: str):
    def record(event: LeadEvent) -> None:
        audit_record(actor=actor, action=action, target=lead, reason=note, data={"lead": lead.number})

    return record


def tips_restriction_sync(*, lead: Lead, actor, reason: str = "", tip_ids=None) -> int:
    """Keep reports.Tip.restricted equal to "behind a restricted lead" for `tip_ids` (default: every tip
    of `lead`), through the reports service. Reads the leads as saved, so call it after the lead's row
    (and its LeadTip rows) are written. A tip stays marked while any lead it is behind is restricted."""
    from reports.services import tip_set_restricted  # noqa: PLC0415

    if tip_ids is None:
        tip_ids = LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True)
    tip_ids = set(tip_ids)
    if not tip_ids:
        return 0
    behind = set(
        LeadTip.objects.filter(tip_id__in=tip_ids, lead__restricted=True).values_list("tip_id", flat=True)
    )
    common = {"actor": actor, "reason": reason, "lead_number": lead.number}
    changed = tip_set_restricted(tip_ids=behind, restricted=True, **common)
    return changed + tip_set_restricted(tip_ids=tip_ids - behind, restricted=False, **common)


def _sync_tips(actor, lead, note: str):
    def sync(event: LeadEvent) -> None:
        tips_restriction_sync(lead=lead, actor=actor, reason=note)

    return sync


def _do_restrict(lead, actor, now, note, assignments, fields) -> Step:
    note = _require_note(note, _("请填写限制知悉范围的理由。"))
    lead.restricted = True
    return Step(
        note=note,
        data={"restricted": True},
        after=[_audit("lead_restrict", actor, lead, note), _sync_tips(actor, lead, note)],
    )


def _do_unrestrict(lead, actor, now, note, assignments, fields) -> Step:
    note = _require_note(note, _("请填写取消限制的理由。"))
    lead.restricted = False
    return Step(
        note=note,
        data={"restricted": False},
        after=[_audit("lead_unrestrict", actor, lead, note), _sync_tips(actor, lead, note)],
    )


PRACTICE_HANDLERS = {
    "report_first": _do_report_first,
    "report_stage": _do_report_stage,
    "request_stage_report": _do_request_stage_report,
    "request_sign_off": _do_request_sign_off,
    "sign_off": _do_sign_off,
    "decline_sign_off": _do_decline_sign_off,
    "accept_send_back": _do_accept_send_back,
    "refuse_send_back": _do_refuse_send_back,
    "sign_off_closure": _do_sign_off_closure,
    "review_escalate": _do_review_escalate,
    "review_confirm": _do_review_confirm,
    "restrict": _do_restrict,
    "unrestrict": _do_unrestrict,
}


# --- notifications and SMS ------------------------------------------------------------------------
def office_audience(lead: Lead):
    """Office users who may hear about a lead: everyone, or for a restricted lead only its circle."""
    from campaign.notifications import office_users

    users = office_users()
    if not lead.restricted:
        return users
    handlers = LeadEvent.objects.filter(lead=lead, actor__isnull=False).values("actor_id")
    return users.filter(Q(is_office_leader=True) | Q(pk=lead.created_by_id) | Q(pk__in=handlers))


def _day(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""


def sign_for_prompt(*, lead: Lead, unit: Unit, url: str, key: str) -> None:
    """A new assignment: the liaisons are asked to sign for it (with an SMS), the unit head is told."""
    from campaign.notifications import notify, users_for_unit

    assignment = (
        Assignment.objects.filter(lead=lead, unit=unit, status=AssignmentStatus.ASSIGNED)
        .order_by("-id")
        .first()
    )
    by = _day(assignment.accept_deadline) if assignment else ""
    notify(
        users=users_for_unit(unit, roles=[Role.LIAISON]),
        kind="lead_assigned",
        title=_("新交办线索 %(number)s，请于 %(by)s 前签收") % {"number": lead.number, "by": by}
        if by
        else _("新交办线索 %(number)s，请及时签收") % {"number": lead.number},
        body=_("办理期限：%(deadline)s") % {"deadline": _day(assignment.deadline)} if assignment else "",
        url=url,
        dedupe_key=key,
        sms=bool(leads_setting("SMS_SIGN_FOR")),
    )
    notify(
        users=users_for_unit(unit, roles=[Role.UNIT_HEAD]),
        kind="lead_assigned",
        title=_("本单位新交办线索 %(number)s") % {"number": lead.number},
        body=_("办理期限：%(deadline)s") % {"deadline": _day(assignment.deadline)} if assignment else "",
        url=url,
        dedupe_key=key,
    )


def practice_notify(*, lead: Lead, action: str, actor: User, step: Step, url: str, key: str) -> None:
    from campaign.notifications import notify, users_for_unit

    a = step.assignment
    number = lead.number
    unit_name = _unit_label(a.unit) if a else ""
    if action in ("report_first", "report_stage"):
        titles = {
            "report_first": _("%(unit)s报送线索 %(number)s 的首次回告"),
            "report_stage": _("%(unit)s报送线索 %(number)s 的阶段回告"),
        }
        notify(
            users=office_audience(lead).exclude(pk=actor.pk),
            kind=f"lead_{action}",
            title=titles[action] % {"unit": unit_name, "number": number},
            url=url,
            dedupe_key=key,
            email=False,
        )
    elif action == "request_stage_report" and a:
        notify(
            users=users_for_unit(a.unit),
            kind="lead_stage_report",
            title=_("市扫黑办要求报送线索 %(number)s 的阶段回告（%(due)s 前）")
            % {"number": number, "due": _day(dt.datetime.fromisoformat(step.data["due_at"]))},
            body=step.note,
            url=url,
            dedupe_key=key,
        )
    elif action == "request_sign_off" and a:
        notify(
            users=users_for_unit(a.unit, roles=[Role.UNIT_HEAD]),
            kind="lead_sign_off",
            title=_("线索 %(number)s 的核查结果待您签字背书") % {"number": number},
            url=url,
            dedupe_key=key,
            sms=True,
        )
    elif action in ("sign_off", "decline_sign_off") and a:
        titles = {
            "sign_off": _("第一责任人已对线索 %(number)s 的核查结果签字背书，请提交"),
            "decline_sign_off": _("第一责任人退回线索 %(number)s 的核查结果，请修改"),
        }
        notify(
            users=users_for_unit(a.unit, roles=[Role.LIAISON]),
            kind=f"lead_{action}",
            title=titles[action] % {"number": number},
            body=step.note,
            url=url,
            dedupe_key=key,
        )
    elif action == "refuse_send_back" and a:
        notify(
            users=users_for_unit(a.unit),
            kind="lead_send_back_refused",
            title=_("市扫黑办不同意线索 %(number)s 退单，请继续办理（期限不变）") % {"number": number},
            body=step.note,
            url=url,
            dedupe_key=key,
        )


INFORMANT_TEXTS = {
    PublicStatus.VERIFYING: "您反映的问题（查询码 %(code)s）已交有关部门核查，可凭查询码和查询密码在举报平台查询进度。",
    PublicStatus.CONCLUDED: "您反映的问题（查询码 %(code)s）已办结，请凭查询码和查询密码登录举报平台查看办理结果。",
}


def informant_feedback_send(*, lead: Lead, tip_ids: list[int], public_status: str, event: LeadEvent) -> int:
    """SMS feedback to named informants who agreed to it (reports.Tip.sms_consent), in the caller's
    transaction through the outbox. The identity is decrypted here and nowhere else; the message says
    only that there is news and where to read it — never the conclusion or any other person's data."""
    if not leads_setting("SMS_INFORMANT_FEEDBACK") or public_status not in INFORMANT_TEXTS:
        return 0
    from django.conf import settings

    from campaign.messaging import outbound_enqueue
    from reports.crypto import IdentityDecryptError, decrypt_identity

    tips = Tip.objects.filter(
        pk__in=tip_ids, sms_consent=True, anonymous=False, identity_purged_at__isnull=True
    ).exclude(identity_encrypted="")
    sent = 0
    for tip in tips.only("pk", "tracking_code", "identity_encrypted"):
        try:
            phone = (decrypt_identity(tip.identity_encrypted).get("phone") or "").strip()
        except IdentityDecryptError:
            log.warning("informant SMS: identity of tip %s cannot be decrypted", tip.pk)
            continue
        if not phone:
            continue
        # One "verifying" message per tip; one "concluded" per closure (a reopened lead may close again).
        scope = f"{event.pk}" if public_status == PublicStatus.CONCLUDED else "once"
        created = outbound_enqueue(
            channel="sms",
            recipient=phone,
            body=settings.SMS_SIGNATURE + _(INFORMANT_TEXTS[public_status]) % {"code": tip.tracking_code},
            dedupe_key=f"informant:{tip.pk}:{public_status}:{scope}",
        )
        sent += 1 if created else 0
    if sent:
        event.data = {**(event.data or {}), "informant_sms": sent}
        event.save(update_fields=["data"])
    return sent


# --- identifiers of 查否 leads, and repeat reports (评查) ---------------------------------------------
MASKED_KINDS = {Kind.PHONE, Kind.ID_NUMBER, Kind.BANK_CARD, Kind.PLATE}


def keys_of(texts) -> dict[tuple[str, str], str]:
    """(kind, value) → display (masked numbers) of the identifiers in `texts` [(text, accused), …]."""
    kinds = set(leads_setting("REPEAT_KINDS"))
    out: dict[tuple[str, str], str] = {}
    for text, accused in texts:
        for e in distinct(extract_entities(text or "", accused=accused or "")):
            if str(e.kind) not in kinds:
                continue
            value = company_key(e.value) if e.kind == Kind.COMPANY else e.value
            if not value or len(value) > 200:
                continue
            out[(str(e.kind), value)] = mask(e.kind, e.value) if e.kind in MASKED_KINDS else e.value
    return out


def lead_keys_store(*, lead: Lead) -> int:
    """Keep the identifiers a lead closed as 查否 names (its text and its tips'); returns how many."""
    texts = [(lead.summary, lead.accused)]
    texts += list(Tip.objects.filter(lead_link__lead=lead).values_list("description", "accused"))
    keys = keys_of(texts)
    LeadKey.objects.filter(lead=lead).delete()
    LeadKey.objects.bulk_create(
        [LeadKey(lead=lead, kind=kind, value=value) for kind, value in keys], ignore_conflicts=True
    )
    return len(keys)


def _review_open(*, lead: Lead, source: str, now: dt.datetime) -> LeadReview:
    review = LeadReview.objects.filter(lead=lead, status=LeadReview.Status.PENDING).first()
    if review is None:
        review = LeadReview.objects.create(lead=lead, source=source, opened_at=now)
    lead.review_pending = True
    return review


def repeat_check_tip(*, tip_id: int, now: dt.datetime | None = None) -> list[int]:
    """Flag the leads closed as 查否 before this tip came in that share an identifier with it.

    Safe to run twice (the intake task and the sweep): RepeatReport is unique per lead and tip, and
    only a new row counts. Returns the ids of the leads newly flagged.
    """
    now = now or timezone.now()
    tip = (
        Tip.objects.filter(pk=tip_id)
        .only("pk", "tracking_code", "description", "accused", "received_at")
        .first()
    )
    if tip is None:
        return []
    keys = keys_of([(tip.description, tip.accused)])
    if not keys:
        return []
    cond = Q()
    for kind, value in keys:
        cond |= Q(kind=kind, value=value)
    matched: dict[int, list[str]] = {}
    for lead_id, kind, value in LeadKey.objects.filter(cond).values_list("lead_id", "kind", "value"):
        matched.setdefault(lead_id, []).append(keys[(kind, value)])
    if not matched:
        return []
    candidates = (
        Lead.objects.filter(
            pk__in=list(matched),
            status=LeadStatus.CLOSED,
            result=Result.UNSUBSTANTIATED,
            closed_at__lt=tip.received_at,
        )
        .exclude(lead_tips__tip_id=tip.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    flagged = []
    for lead_id in candidates:
        with transaction.atomic():
            if _repeat_record(lead_id=lead_id, tip=tip, matched=sorted(set(matched[lead_id])), now=now):
                flagged.append(lead_id)
    return flagged


def repeat_check_tips(*, tips, now: dt.datetime | None = None) -> list[int]:
    """`repeat_check_tip` for many tips (routing checks its batch): one query for all their identifiers;
    only a tip that shares one with a lead closed as 查否 is checked further. Returns the leads flagged."""
    keys = {tip.pk: keys_of([(tip.description, tip.accused)]) for tip in tips}
    wanted = {k for ks in keys.values() for k in ks}
    if not wanted:
        return []
    cond = Q()
    for kind, value in sorted(wanted):
        cond |= Q(kind=kind, value=value)
    known = set(LeadKey.objects.filter(cond).values_list("kind", "value"))
    flagged = []
    for tip in tips:
        if known & set(keys[tip.pk]):
            flagged += repeat_check_tip(tip_id=tip.pk, now=now)
    return flagged


def _repeat_record(*, lead_id: int, tip: Tip, matched: list[str], now: dt.datetime) -> bool:
    lead = Lead.objects.select_for_update().get(pk=lead_id)
    if lead.status != LeadStatus.CLOSED or lead.result != Result.UNSUBSTANTIATED:
        return False
    report, created = RepeatReport.objects.get_or_create(
        lead=lead, tip=tip, defaults={"matched": [{"value": m} for m in matched], "created_at": now}
    )
    if not created:
        return False
    review = _review_open(lead=lead, source=LeadReview.Source.REPEAT, now=now)
    report.review = review
    report.save(update_fields=["review"])
    lead.repeat_count = F("repeat_count") + 1
    lead.version = F("version") + 1
    lead.save(update_fields=["repeat_count", "review_pending", "version"])
    lead.refresh_from_db(fields=["repeat_count", "version"])
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=None,
        action="repeat_report",
        from_status=lead.status,
        to_status=lead.status,
        note=_("查否办结后再次被举报（第 %(n)s 次）：新举报 %(code)s 有相同的 %(what)s，请评查。")
        % {"n": lead.repeat_count, "code": tip.tracking_code, "what": "、".join(matched)},
        data={"tip": tip.pk, "tracking_code": tip.tracking_code, "matched": matched, "review": review.pk},
    )
    from campaign.notifications import notify

    notify(
        users=office_audience(lead),
        kind="lead_repeat_report",
        title=_("查否线索 %(number)s 再次被举报（第 %(n)s 次），请评查")
        % {"number": lead.number, "n": lead.repeat_count},
        url=reverse("leads:detail", args=[lead.pk]),
        dedupe_key=f"repeat:{lead.pk}:{tip.pk}",
        email=False,
    )
    return True


# --- call-backs (回访) ------------------------------------------------------------------------------
def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = month_start(month)
    last = calendar.monthrange(start.year, start.month)[1]
    end = start + dt.timedelta(days=last)
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end, dt.time.min), tz),
    )


def callback_sample_size(population: int) -> int:
    if population <= 0:
        return 0
    size = round(population * float(leads_setting("CALLBACK_RATE")))
    size = max(size, int(leads_setting("CALLBACK_MIN")))
    return min(size, int(leads_setting("CALLBACK_MAX")), population)


@transaction.atomic
def callback_draw(*, month: dt.date, now: dt.datetime | None = None, rng: random.Random | None = None) -> int:
    """Draw the call-back sample of leads closed in `month` from named informants (once per month).

    Restricted leads are left out: a call-back puts the lead in front of general office staff.
    """
    now = now or timezone.now()
    month = month_start(month)
    start, end = month_bounds(month)
    # One draw per month even with two beats at once: the advisory lock serialises them.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x63626B, month.year * 100 + month.month])
    if CallBack.objects.filter(month=month).exists():
        return 0
    rows = (
        LeadTip.objects.filter(
            lead__status=LeadStatus.CLOSED,
            lead__closed_at__gte=start,
            lead__closed_at__lt=end,
            lead__restricted=False,
            tip__anonymous=False,
            tip__identity_purged_at__isnull=True,
        )
        .exclude(tip__identity_encrypted="")
        .order_by("lead_id", "tip_id")
        .values_list("lead_id", "tip_id")
    )
    first_tip: dict[int, int] = {}
    for lead_id, tip_id in rows:
        first_tip.setdefault(lead_id, tip_id)
    size = callback_sample_size(len(first_tip))
    if not size:
        return 0
    chosen = (rng or random.SystemRandom()).sample(sorted(first_tip), size)
    CallBack.objects.bulk_create(
        [
            CallBack(lead_id=lead_id, tip_id=first_tip[lead_id], month=month, drawn_at=now)
            for lead_id in chosen
        ],
        ignore_conflicts=True,
    )
    return size


def _callback_error(message: str, field: str | None = None, kind: str = "invalid") -> TransitionError:
    return TransitionError(message, {field: [message]} if field else {}, kind=kind)


@transaction.atomic
def callback_record(
    *,
    callback_id: int,
    actor: User,
    status: str,
    outcome: str = "",
    notes: str = "",
    now: dt.datetime | None = None,
) -> CallBack:
    """The office records a call-back: reached (满意 / 基本满意 / 不满意, notes) or unreachable.
    An unsatisfied informant puts the lead up for review (评查)."""
    now = now or timezone.now()
    if getattr(actor, "role", None) != Role.OFFICE:
        raise _callback_error(_("只有市扫黑办工作人员可以记录回访。"), kind="forbidden")
    callback = CallBack.objects.select_for_update().select_related("lead").filter(pk=callback_id).first()
    if callback is None:
        raise _callback_error(_("回访记录不存在。"), kind="state")
    if callback.status == CallBack.Status.DONE:
        raise _callback_error(_("该回访已记录结果，不能重复记录。"), kind="state")
    notes = (notes or "").strip()
    if status not in (CallBack.Status.DONE, CallBack.Status.UNREACHABLE):
        raise _callback_error(_("请选择回访情况。"), "status")
    if status == CallBack.Status.DONE and outcome not in CallBack.Outcome.values:
        raise _callback_error(_("请选择满意度。"), "outcome")
    if status == CallBack.Status.UNREACHABLE:
        outcome = ""
    if (status == CallBack.Status.UNREACHABLE or outcome == CallBack.Outcome.UNSATISFIED) and not notes:
        raise _callback_error(_("请填写回访记录（不满意或无法联系时必填）。"), "notes")
    lead = Lead.objects.select_for_update().get(pk=callback.lead_id)
    callback.status = status
    callback.outcome = outcome
    callback.notes = notes
    callback.recorded_by = actor
    callback.recorded_at = now
    fields = ["status", "outcome", "notes", "recorded_by", "recorded_at"]
    if outcome == CallBack.Outcome.UNSATISFIED and lead.status == LeadStatus.CLOSED:
        callback.review = _review_open(lead=lead, source=LeadReview.Source.CALLBACK, now=now)
        fields.append("review")
    callback.save(update_fields=fields)
    lead.version += 1
    lead.save(update_fields=["review_pending", "version"])
    label = callback.get_outcome_display() if outcome else callback.get_status_display()
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        action="callback",
        from_status=lead.status,
        to_status=lead.status,
        note=_("回访结果：%(label)s。%(notes)s") % {"label": label, "notes": notes},
        data={"callback": callback.pk, "status": status, "outcome": outcome, "review": callback.review_id},
    )
    return callback
