"""Writes for accountability: proposals, the one workflow entry point `action_transition`, sweeps, unit tasks.

Every change of an action goes through `action_transition` (or `action_propose` / `action_update_draft`
for drafts): it locks the action row, checks the table in workflow.py, applies the step, derives the
status from the items, bumps `version` and writes the timeline event in the same transaction. Issuing
allocates the document number then, under the counter row's lock, and writes an audit row.

Proposals, not surprises: the sweep (and the dashboards' blind-spot button) only ever create drafts.
The office confirms (editing first if it wishes) or dismisses them with a reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign import workdays
from campaign.audit import audit_record
from campaign.models import Phase, Unit, User
from campaign.notifications import notify, office_users, users_for_unit
from campaign.roles import Role
from leads.escalation_levels import EscalationLevel
from leads.models import OPEN_ASSIGNMENT_STATUSES, Assignment, Lead

from . import drafting
from .conf import acc_setting, doc_series
from .documents import format_doc_number
from .models import (
    ITEMS_REQUIRED_KINDS,
    OPEN_TASK_STATUSES,
    RECTIFYING_KINDS,
    Action,
    ActionEvent,
    ActionKind,
    ActionPerson,
    ActionSource,
    ActionStatus,
    EscalationLink,
    ItemStatus,
    RectificationEvidence,
    RectificationItem,
    RectificationReport,
    ReportDecision,
    TaskStatus,
    UnitTask,
    UnitTaskAttachment,
    UnitTaskEvent,
    UnitTaskReport,
)
from .workflow import VersionConflict, WorkflowError, action_error, derive_status, item_error

log = logging.getLogger(__name__)

# Escalation level → the kind of draft it proposes (DESIGN.md: 7 days overdue 督办, 15 days 约谈).
PROPOSAL_KIND_FOR_LEVEL = {
    EscalationLevel.SUPERVISION: ActionKind.SUPERVISION,
    EscalationLevel.ACCOUNTABILITY: ActionKind.TALK,
}


# --- helpers -------------------------------------------------------------------------------------
def _resolve_units(values, *, field: str = "units") -> list[Unit]:
    """Units from Unit objects, ids or codes, in the given order; raises a field error for unknown ones."""
    if values is None or values == "":
        values = []
    if isinstance(values, str | int | Unit):
        values = [values]
    values = list(values)
    codes = [v for v in values if isinstance(v, str)]
    ids = [v for v in values if isinstance(v, int)]
    by_code = {u.code: u for u in Unit.objects.filter(code__in=codes, is_active=True)} if codes else {}
    by_id = {u.pk: u for u in Unit.objects.filter(pk__in=ids, is_active=True)} if ids else {}
    units: list[Unit] = []
    for v in values:
        unit = v if isinstance(v, Unit) else by_code.get(v) if isinstance(v, str) else by_id.get(v)
        if unit is None:
            raise WorkflowError.field(field, _("单位“%(code)s”不存在或已停用。") % {"code": v})
        if unit not in units:
            units.append(unit)
    return units


def _resolve_leads(values) -> list[Lead]:
    values = list(values or [])
    ids = [v.pk if isinstance(v, Lead) else int(v) for v in values]
    found = {lead.pk: lead for lead in Lead.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise WorkflowError.field("leads", _("线索 %(ids)s 不存在。") % {"ids": ", ".join(map(str, missing))})
    return [found[i] for i in dict.fromkeys(ids)]


def _url(action: Action) -> str:
    return reverse("accountability:action-detail", args=[action.pk])


def _event(action: Action, *, name: str, actor, old: str, note: str = "", item=None, data=None, now=None):
    return ActionEvent.objects.create(
        action=action,
        item=item,
        at=now or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        name=name,
        from_status=old,
        to_status=action.status,
        note=note,
        data=data or {},
    )


def _unit_users(units: Iterable[Unit]):
    ids: list[int] = []
    for unit in units:
        ids += list(users_for_unit(unit).values_list("pk", flat=True))
    return ids


def allocate_doc_number(*, kind: str, year: int) -> tuple[str, int, str]:
    """The next number of the kind's series in `year`: (series, seq, formatted number).

    One INSERT … ON CONFLICT DO UPDATE: PostgreSQL locks the counter row until the issuing
    transaction ends, so concurrent issues queue and never share a number, and an issue that rolls
    back gives its number back (no gaps in the register).
    """
    series = doc_series(kind)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accountability_documentnumbercounter (series, year, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (series, year) DO UPDATE SET last = accountability_documentnumbercounter.last + 1 "
            "RETURNING last",
            [series, year],
        )
        seq = cur.fetchone()[0]
    return series, seq, format_doc_number(series, year, seq)


def _clean_items(items, kind: str) -> list[dict]:
    """Validate rectification items: [{"description", "deadline_days" | "deadline"}]; field errors by index."""
    out: list[dict] = []
    errors: dict[str, list[str]] = {}
    for n, raw in enumerate(items or []):
        description = (raw.get("description") or "").strip()
        days = raw.get("deadline_days")
        deadline = raw.get("deadline")
        if not description and not days and not deadline:
            continue
        if not description:
            errors[f"items.{n}.description"] = [_("请填写整改要求。")]
        if days in ("", None) and not deadline:
            days = acc_setting("RECTIFY_DEFAULT_DAYS")
        if days not in ("", None):
            try:
                days = int(days)
            except (TypeError, ValueError):
                days = -1
            if not 1 <= days <= 250:
                errors[f"items.{n}.deadline_days"] = [_("整改时限应为 1 至 250 个工作日。")]
        else:
            days = None
        if isinstance(deadline, dt.date) and not isinstance(deadline, dt.datetime):
            deadline = timezone.make_aware(dt.datetime.combine(deadline, dt.time(23, 59, 59)))
        out.append({"description": description, "deadline_days": days, "deadline": deadline or None})
    if out and kind not in RECTIFYING_KINDS:
        errors["items"] = [_("%(kind)s不设整改事项。") % {"kind": ActionKind(kind).label}]
    if errors:
        raise WorkflowError(_("请检查整改事项。"), errors)
    return out


def _clean_persons(persons) -> list[dict]:
    out = []
    for p in persons or []:
        name = (p.get("name") or "").strip()
        if name:
            out.append(
                {"name": name[:40], "title": (p.get("title") or "").strip()[:80], "unit": p.get("unit")}
            )
    return out


def _replace_items(action: Action, items: list[dict]) -> None:
    action.items.all().delete()
    RectificationItem.objects.bulk_create(
        RectificationItem(
            action=action,
            seq=n,
            description=i["description"],
            deadline_days=i["deadline_days"],
            deadline=i["deadline"],
        )
        for n, i in enumerate(items, start=1)
    )


def _replace_persons(action: Action, persons: list[dict]) -> None:
    action.persons.all().delete()
    units = {}
    codes = [p["unit"] for p in persons if isinstance(p.get("unit"), str)]
    if codes:
        units = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    ActionPerson.objects.bulk_create(
        ActionPerson(
            action=action,
            name=p["name"],
            title=p["title"],
            unit=p["unit"] if isinstance(p.get("unit"), Unit) else units.get(p.get("unit")),
        )
        for p in persons
    )


# --- proposals -----------------------------------------------------------------------------------
@transaction.atomic
def action_propose(
    *,
    kind: str,
    units,
    reasons: str,
    leads=(),
    source: str = ActionSource.MANUAL,
    actor: User | None = None,
    title: str = "",
    body: str = "",
    items=(),
    persons=(),
    assignments=(),
    dedupe_key: str | None = None,
    parent: Action | None = None,
    escalation: tuple[Assignment, int] | None = None,
    notify_office: bool = True,
    now: dt.datetime | None = None,
) -> Action:
    """Create a draft action (a proposal) that the office confirms, edits or dismisses.

    `units`: Unit objects, ids or codes; `leads`: Lead objects or ids. With `dedupe_key` (the
    dashboards pass one per blind-spot cell and period) a second call returns the first draft, so one
    click twice proposes once. `escalation=(assignment, level)` records where a sweep proposal came
    from; the unique constraint on it makes the sweep idempotent.
    Raises WorkflowError (field errors) and leaves the database unchanged on bad input.
    """
    now = now or timezone.now()
    if dedupe_key:
        existing = Action.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
    errors: dict[str, list[str]] = {}
    if kind not in ActionKind.values:
        errors["kind"] = [_("无效的措施类型：%(kind)s。") % {"kind": kind}]
    if source not in ActionSource.values:
        errors["source"] = [_("无效的来源：%(source)s。") % {"source": source}]
    if not (reasons or "").strip():
        errors["reasons"] = [_("请填写问责事由。")]
    if actor is not None and source == ActionSource.MANUAL and actor.role != Role.OFFICE:
        raise WorkflowError(_("只有市扫黑办工作人员可以发起问责措施。"), kind="forbidden")
    try:
        unit_list = _resolve_units(units)
        if not unit_list:
            errors["units"] = [_("请至少选择一个对象单位。")]
    except WorkflowError as exc:
        errors.update(exc.errors)
        unit_list = []
    try:
        lead_list = _resolve_leads(leads)
    except WorkflowError as exc:
        errors.update(exc.errors)
        lead_list = []
    clean_items: list[dict] = []
    if not errors:
        try:
            clean_items = _clean_items(items, kind)
        except WorkflowError as exc:
            errors.update(exc.errors)
    if errors:
        raise WorkflowError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    reasons = reasons.replace("\r\n", "\n").strip()
    body = (body or "").replace("\r\n", "\n")
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin with the same key loses quietly
            action = Action.objects.create(
                kind=kind,
                source=source,
                dedupe_key=dedupe_key or None,
                parent=parent,
                title=(title or drafting.default_title(kind, unit_list))[:200],
                reasons=reasons,
                body=body or drafting.default_body(kind, reasons=reasons),
                issuer=acc_setting("ISSUER_FULL_NAME"),
                created_by=actor,
                created_at=now,
            )
            if escalation is not None:
                EscalationLink.objects.create(
                    action=action, assignment=escalation[0], level=escalation[1], created_at=now
                )
    except IntegrityError:
        if dedupe_key:
            existing = Action.objects.filter(dedupe_key=dedupe_key).first()
            if existing:
                return existing
        raise
    action.units.set(unit_list)
    if lead_list:
        action.leads.set(lead_list)
    if assignments:
        action.assignments.set(list(assignments))
    if clean_items:
        _replace_items(action, clean_items)
    if persons:
        _replace_persons(action, _clean_persons(persons))
    _event(action, name="propose", actor=actor, old="", note=reasons[:500], now=now, data={"source": source})
    if notify_office:
        notify(
            users=office_users(),
            kind="accountability_proposal",
            title=_("新的问责建议：%(title)s") % {"title": action.title},
            body=reasons[:300],
            url=_url(action),
            dedupe_key=f"acc-proposal:{action.pk}",
            email=False,
        )
    return action


@transaction.atomic
def action_update_draft(
    *,
    action_id: int,
    actor: User,
    expected_version: int | None = None,
    kind: str | None = None,
    title: str | None = None,
    reasons: str | None = None,
    body: str | None = None,
    addressees: str | None = None,
    cc: str | None = None,
    units=None,
    leads=None,
    items=None,
    persons=None,
    talk_at: dt.datetime | None = None,
    talk_place: str | None = None,
) -> Action:
    """Edit a draft (the "edit" step): any field given replaces the old value; items and persons are replaced whole."""
    action = Action.objects.select_for_update().get(pk=action_id)
    if expected_version is not None and int(expected_version) != action.version:
        raise VersionConflict(action)
    # Browsers send textarea line breaks as CRLF.
    body = body.replace("\r\n", "\n") if body is not None else None
    reasons = reasons.replace("\r\n", "\n") if reasons is not None else None
    error = action_error("edit", action, actor, items=[], unit_ids=set())
    if error:
        raise error
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    new_kind = kind if kind is not None else action.kind
    if new_kind not in ActionKind.values:
        errors["kind"] = [_("无效的措施类型：%(kind)s。") % {"kind": new_kind}]
    if title is not None and not title.strip():
        errors["title"] = [_("请填写标题。")]
    if reasons is not None and not reasons.strip():
        errors["reasons"] = [_("请填写问责事由。")]
    unit_list = lead_list = None
    if units is not None:
        try:
            unit_list = _resolve_units(units)
            if not unit_list:
                errors["units"] = [_("请至少选择一个对象单位。")]
        except WorkflowError as exc:
            errors.update(exc.errors)
    if leads is not None:
        try:
            lead_list = _resolve_leads(leads)
        except WorkflowError as exc:
            errors.update(exc.errors)
    clean_items = None
    if not errors:
        try:
            if items is not None:
                clean_items = _clean_items(items, new_kind)
            elif new_kind not in RECTIFYING_KINDS and action.items.exists():
                raise WorkflowError.field(
                    "items", _("%(kind)s不设整改事项。") % {"kind": ActionKind(new_kind).label}
                )
        except WorkflowError as exc:
            errors.update(exc.errors)
    if errors:
        raise WorkflowError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    # A body still in the proposal's default wording follows a change of kind (督办 → 挂牌督办);
    # wording the office wrote itself is kept.
    if (
        new_kind != action.kind
        and (body is None or body.strip() == action.body.strip())
        and action.body.strip() == drafting.default_body(action.kind, reasons=action.reasons).strip()
    ):
        body = drafting.default_body(new_kind, reasons=(reasons or action.reasons).strip())
    simple = {
        "kind": new_kind,
        "title": title.strip()[:200] if title is not None else None,
        "reasons": reasons.strip() if reasons is not None else None,
        "body": body.strip() if body is not None else None,
        "addressees": addressees.strip()[:300] if addressees is not None else None,
        "cc": cc.strip()[:300] if cc is not None else None,
        "talk_place": talk_place.strip()[:120] if talk_place is not None else None,
    }
    for name, value in simple.items():
        if value is not None and getattr(action, name) != value:
            setattr(action, name, value)
            changed.append(name)
    if talk_at is not None and action.talk_at != talk_at:
        action.talk_at = talk_at
        changed.append("talk_at")
    if unit_list is not None and {u.pk for u in unit_list} != set(action.units.values_list("pk", flat=True)):
        action.units.set(unit_list)
        changed.append("units")
    if lead_list is not None:
        action.leads.set(lead_list)
        changed.append("leads")
    if clean_items is not None:
        _replace_items(action, clean_items)
        changed.append("items")
    if persons is not None:
        _replace_persons(action, _clean_persons(persons))
        changed.append("persons")
    action.version += 1
    action.save(update_fields=[*[c for c in changed if c in simple or c == "talk_at"], "version"])
    _event(action, name="edit", actor=actor, old=action.status, data={"changed": changed})
    return action


# --- the workflow --------------------------------------------------------------------------------
def _store_files(model, parent_field: str, parent, checked: list[dict], actor, now) -> list:
    saved = []
    try:
        for item in checked:
            obj = model(
                **{parent_field: parent},
                name=item["name"],
                content_type=item["content_type"],
                size=item["size"],
                sha256=item["sha256"],
                uploaded_by=actor,
                uploaded_at=now,
            )
            obj.file.save(item["name"], item["file"], save=False)
            saved.append(obj)
            obj.save()
    except Exception:
        for obj in saved:
            obj.file.delete(save=False)
        raise
    return saved


def check_files(files, *, field: str = "evidence") -> list[dict]:
    """Count, size and real type of uploads (the same rules as lead attachments)."""
    from leads.attachments import attachments_check
    from leads.workflow import TransitionError

    try:
        return attachments_check(list(files or []), field=field)
    except TransitionError as exc:
        raise WorkflowError(exc.message, exc.errors)


def _item(items: list[RectificationItem], item_id) -> RectificationItem:
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise WorkflowError.field("item", _("请选择整改事项。"))
    for item in items:
        if item.pk == item_id:
            return item
    raise WorkflowError.field("item", _("整改事项不存在。"))


def _do_issue(action, actor, now, note, items, fields) -> dict:
    year = timezone.localtime(now).year
    action.doc_series, action.doc_seq, action.doc_number = allocate_doc_number(kind=action.kind, year=year)
    action.doc_year = year
    action.doc_date = timezone.localdate(now)
    action.issued_at = now
    action.issued_by = actor
    units = list(action.units.all())
    if not action.addressees:
        action.addressees = drafting.unit_names(units)
    if not action.cc:
        action.cc = acc_setting("DEFAULT_CC")
    if not action.issuer:
        action.issuer = acc_setting("ISSUER_FULL_NAME")
    for item in items:
        if item.deadline is None:
            item.deadline = workdays.add_workdays(
                now, item.deadline_days or acc_setting("RECTIFY_DEFAULT_DAYS")
            )
            item.save(update_fields=["deadline"])
    action.rectify_deadline = max((i.deadline for i in items), default=None)
    action.status = ActionStatus.ISSUED
    audit_record(
        actor=actor,
        action="accountability.issue",
        target=action,
        reason=action.reasons[:500],
        data={
            "number": action.doc_number,
            "kind": action.kind,
            "units": [u.code for u in units],
            "items": len(items),
        },
        ip=fields.get("ip"),
    )
    if action.kind == ActionKind.VETO:
        from .assessments import assessments_apply_veto

        assessments_apply_veto(action=action, units=units)
    notify(
        users=_unit_users(units),
        kind="accountability_issued",
        title=_("市扫黑办对贵单位%(kind)s：%(number)s")
        % {"kind": action.get_kind_display(), "number": action.doc_number},
        body=action.title,
        url=_url(action),
        dedupe_key=f"acc-issued:{action.pk}",
        sms=action.kind in (ActionKind.TALK, ActionKind.LISTED_SUPERVISION, ActionKind.VETO),
    )
    return {"note": note, "data": {"number": action.doc_number}}


def _do_dismiss(action, actor, now, note, items, fields) -> dict:
    if not note:
        raise WorkflowError.field("note", _("请说明不予采纳的理由。"))
    action.dismissed_reason = note
    action.status = ActionStatus.DISMISSED
    audit_record(
        actor=actor, action="accountability.dismiss", target=action, reason=note, ip=fields.get("ip")
    )
    return {"note": note}


def _do_report(action, actor, now, note, items, fields) -> dict:
    item = _item(items, fields.get("item"))
    message = item_error("report", item, actor)
    if message:
        raise WorkflowError(message, {"item": [message]}, kind="state")
    body = (fields.get("body") or note or "").strip()
    if not body:
        raise WorkflowError.field("body", _("请填写整改情况。"))
    checked = check_files(fields.get("evidence"), field="evidence")
    if not checked:
        raise WorkflowError.field("evidence", _("请上传整改佐证材料（照片、文件等）。"))
    report = RectificationReport.objects.create(
        item=item, unit=actor.unit, body=body, submitted_by=actor, submitted_at=now
    )
    item.status = ItemStatus.REPORTED
    item.save(update_fields=["status"])
    _store_files(RectificationEvidence, "report", report, checked, actor, now)
    notify(
        users=office_users(),
        kind="accountability_report",
        title=_("%(unit)s报送整改情况：%(number)s 第%(seq)s项")
        % {"unit": actor.unit.short_name or actor.unit.name, "number": action.doc_number, "seq": item.seq},
        url=_url(action),
        dedupe_key=f"acc-report:{report.pk}",
        email=False,
    )
    return {"note": body[:500], "item": item, "data": {"report": report.pk, "evidence": len(checked)}}


def _decide(action, actor, now, note, items, fields, *, accept: bool) -> dict:
    item = _item(items, fields.get("item"))
    name = "accept_item" if accept else "reject_item"
    message = item_error(name, item, actor)
    if message:
        raise WorkflowError(message, {"item": [message]}, kind="state")
    if not accept and not note:
        raise WorkflowError.field("note", _("请写明验收不通过的理由。"))
    report = RectificationReport.objects.select_for_update().get(item=item, decision=ReportDecision.PENDING)
    report.decision = ReportDecision.ACCEPTED if accept else ReportDecision.REJECTED
    report.decided_by = actor
    report.decided_at = now
    report.decision_note = note
    report.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    item.status = ItemStatus.ACCEPTED if accept else ItemStatus.REJECTED
    item.accepted_at = now if accept else None
    item.save(update_fields=["status", "accepted_at"])
    notify(
        users=_unit_users(action.units.all()),
        kind="accountability_decision",
        title=(
            _("整改事项验收通过：%(number)s 第%(seq)s项")
            if accept
            else _("整改事项验收不通过，请重新整改：%(number)s 第%(seq)s项")
        )
        % {"number": action.doc_number, "seq": item.seq},
        body=note,
        url=_url(action),
        dedupe_key=f"acc-decision:{report.pk}",
    )
    return {"note": note, "item": item, "data": {"report": report.pk}}


def _do_accept(action, actor, now, note, items, fields) -> dict:
    return _decide(action, actor, now, note, items, fields, accept=True)


def _do_reject(action, actor, now, note, items, fields) -> dict:
    return _decide(action, actor, now, note, items, fields, accept=False)


def _do_record_talk(action, actor, now, note, items, fields) -> dict:
    record = (fields.get("talk_record") or note or "").strip()
    if not record:
        raise WorkflowError.field("talk_record", _("请填写约谈情况。"))
    action.talk_record = record
    return {"note": _("已记录约谈情况。")}


def _do_close(action, actor, now, note, items, fields) -> dict:
    action.status = ActionStatus.CLOSED
    action.closed_at = now
    return {"note": note}


def _do_mark_overdue(action, actor, now, note, items, fields) -> dict:
    late = [i for i in items if i.is_overdue(now) and i.overdue_at is None]
    for item in late:
        item.overdue_at = now
        item.save(update_fields=["overdue_at"])
    if action.overdue_at is None:
        action.overdue_at = now
    notify(
        users=_unit_users(action.units.all()) + list(office_users().values_list("pk", flat=True)),
        kind="accountability_overdue",
        title=_("整改逾期：%(number)s 第%(seqs)s项未按期整改到位")
        % {"number": action.doc_number, "seqs": "、".join(str(i.seq) for i in late)},
        url=_url(action),
        dedupe_key=f"acc-rect-overdue:{action.pk}:" + ",".join(str(i.pk) for i in late),
        sms=True,
    )
    return {"note": "", "data": {"items": [i.seq for i in late]}}


HANDLERS = {
    "issue": _do_issue,
    "dismiss": _do_dismiss,
    "report": _do_report,
    "accept_item": _do_accept,
    "reject_item": _do_reject,
    "record_talk": _do_record_talk,
    "close": _do_close,
    "mark_overdue": _do_mark_overdue,
}
_STATE_FIELDS = [
    "status",
    "doc_series",
    "doc_year",
    "doc_seq",
    "doc_number",
    "doc_date",
    "issued_at",
    "issued_by",
    "addressees",
    "cc",
    "issuer",
    "rectify_deadline",
    "overdue_at",
    "closed_at",
    "dismissed_reason",
    "talk_record",
    "version",
]


@transaction.atomic
def action_transition(
    *,
    action_id: int,
    step: str,
    actor: User | None,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    **fields,
) -> Action:
    """Apply one workflow step to an action (actor None: the sweep).

    Locks the action row; raises VersionConflict when `expected_version` is stale and WorkflowError
    when the table, the items or the input do not allow the step. Item steps take `item` (its id).
    """
    now = now or timezone.now()
    action = Action.objects.select_for_update().get(pk=action_id)
    if expected_version is not None and int(expected_version) != action.version:
        raise VersionConflict(action)
    items = list(RectificationItem.objects.select_for_update().filter(action=action).order_by("seq"))
    # Reports are read for the preconditions; prefetch them onto the locked items.
    prefetch_related_objects(items, "reports")
    unit_ids = set(action.units.values_list("pk", flat=True))
    error = action_error(step, action, actor, items=items, unit_ids=unit_ids)
    if error:
        raise error
    if step == "issue" and action.kind in ITEMS_REQUIRED_KINDS and not items:
        raise WorkflowError.field("items", _("须至少列明一项整改事项。"))
    if step not in HANDLERS:
        # Steps such as "edit" have their own service (action_update); the transition endpoint refuses them.
        raise WorkflowError.field("action", _("此操作不能通过流转接口执行。"))
    old = action.status
    result = HANDLERS[step](action, actor, now, (note or "").strip(), items, fields)
    if action.status not in (ActionStatus.DISMISSED, ActionStatus.CLOSED, ActionStatus.DRAFT):
        fresh = list(
            RectificationItem.objects.filter(action=action).prefetch_related("reports").order_by("seq")
        )
        action.status = derive_status(action, fresh, now)
    action.version += 1
    action.save(update_fields=_STATE_FIELDS)
    _event(
        action,
        name=step,
        actor=actor,
        old=old,
        note=result.get("note", ""),
        item=result.get("item"),
        data=result.get("data"),
        now=now,
    )
    return action


# --- sweeps --------------------------------------------------------------------------------------
def _batches():
    return acc_setting("SWEEP_BATCH"), acc_setting("SWEEP_MAX_BATCHES")


def _propose_for_assignment(assignment: Assignment, level: int, now: dt.datetime) -> tuple[Action, bool]:
    """Join the assignment to its unit's open escalation draft of that kind, or start a new draft."""
    kind = PROPOSAL_KIND_FOR_LEVEL[level]
    unit = assignment.unit
    draft = (
        Action.objects.select_for_update(skip_locked=True)
        .filter(status=ActionStatus.DRAFT, source=ActionSource.ESCALATION, kind=kind, units=unit)
        .order_by("created_at")
        .first()
    )
    sentence = drafting.lead_overdue_sentence(assignment, now)
    if draft is None:
        action = action_propose(
            kind=kind,
            units=[unit],
            reasons=sentence,
            leads=[assignment.lead_id],
            assignments=[assignment],
            source=ActionSource.ESCALATION,
            escalation=(assignment, level),
            now=now,
        )
        return action, True
    EscalationLink.objects.create(action=draft, assignment=assignment, level=level, created_at=now)
    draft.leads.add(assignment.lead_id)
    draft.assignments.add(assignment)
    draft.reasons = f"{draft.reasons}\n{sentence}"
    fields = ["reasons", "version"]
    # Keep the office's own wording once it has edited the draft; otherwise redraft the body.
    if not draft.events.filter(name="edit").exists():
        draft.body = drafting.default_body(kind, reasons=draft.reasons)
        fields.append("body")
    draft.version += 1
    draft.save(update_fields=fields)
    _event(draft, name="propose_more", actor=None, old=draft.status, note=sentence, now=now)
    return draft, False


def proposals_sweep(*, now: dt.datetime | None = None) -> dict:
    """Draft a 督办 notice for assignments at level SUPERVISION and a 约谈 proposal at ACCOUNTABILITY.

    Bounded batches; rows locked with SKIP LOCKED so two workers split the work; the unique
    (assignment, level) link makes a second run (or a second worker) propose nothing new.
    """
    now = now or timezone.now()
    size, max_batches = _batches()
    created = joined = 0
    for level in (EscalationLevel.ACCOUNTABILITY, EscalationLevel.SUPERVISION):
        for _n in range(max_batches):
            with transaction.atomic():
                rows = list(
                    Assignment.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(escalation_level=level, status__in=OPEN_ASSIGNMENT_STATUSES)
                    .exclude(Exists(EscalationLink.objects.filter(assignment=OuterRef("pk"), level=level)))
                    .select_related("lead", "unit")
                    .order_by("pk")[:size]
                )
                for assignment in rows:
                    _action, new = _propose_for_assignment(assignment, level, now)
                    created += int(new)
                    joined += int(not new)
            if len(rows) < size:
                break
    return {"proposals_created": created, "proposals_joined": joined}


def rectification_sweep(*, now: dt.datetime | None = None) -> dict:
    """Mark issued actions whose items passed their deadline overdue (once), then, after
    RECTIFY_ESCALATE_DAYS more working days, propose a notice (通报) of the unit."""
    now = now or timezone.now()
    size, max_batches = _batches()
    marked = proposed = 0
    for _n in range(max_batches):
        with transaction.atomic():
            late_items = RectificationItem.objects.filter(
                action=OuterRef("pk"),
                status__in=[ItemStatus.OPEN, ItemStatus.REJECTED],
                overdue_at__isnull=True,
                deadline__lt=now,
            )
            ids = list(
                Action.objects.select_for_update(skip_locked=True)
                .filter(status__in=[ActionStatus.ISSUED, ActionStatus.RECTIFYING, ActionStatus.OVERDUE])
                .filter(Exists(late_items))
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            for pk in ids:
                action = Action.objects.get(pk=pk)
                if action.status == ActionStatus.OVERDUE:
                    _mark_items_late(action, now)
                else:
                    action_transition(action_id=pk, step="mark_overdue", actor=None, now=now)
                marked += 1
        if len(ids) < size:
            break
    cutoff = workdays.subtract_workdays(now, acc_setting("RECTIFY_ESCALATE_DAYS"))
    for _n in range(max_batches):
        with transaction.atomic():
            rows = list(
                Action.objects.select_for_update(skip_locked=True)
                .filter(status=ActionStatus.OVERDUE, overdue_at__lte=cutoff)
                .exclude(
                    Exists(
                        Action.objects.filter(
                            parent=OuterRef("pk"), source=ActionSource.RECTIFICATION_OVERDUE
                        )
                    )
                )
                .order_by("pk")[:size]
            )
            for action in rows:
                late = [i for i in action.items.all() if i.overdue_at and i.status != ItemStatus.ACCEPTED]
                reasons = _("你单位未按%(number)s要求按期完成整改，第%(seqs)s项整改事项逾期未整改到位。") % {
                    "number": action.doc_number,
                    "seqs": "、".join(str(i.seq) for i in late) or "—",
                }
                action_propose(
                    kind=ActionKind.NOTICE,
                    units=list(action.units.all()),
                    reasons=reasons,
                    leads=list(action.leads.values_list("pk", flat=True)),
                    source=ActionSource.RECTIFICATION_OVERDUE,
                    parent=action,
                    dedupe_key=f"rect-overdue:{action.pk}",
                    now=now,
                )
                proposed += 1
        if len(rows) < size:
            break
    return {"rectification_overdue": marked, "rectification_proposals": proposed}


def _mark_items_late(action: Action, now) -> None:
    """An action already overdue with another item now late: stamp the item and tell the unit once."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    late = list(
        action.items.filter(
            status__in=[ItemStatus.OPEN, ItemStatus.REJECTED], overdue_at__isnull=True, deadline__lt=now
        )
    )
    for item in late:
        item.overdue_at = now
        item.save(update_fields=["overdue_at"])
        ActionEvent.objects.create(
            action=action,
            item=item,
            at=now,
            name="item_overdue",
            from_status=action.status,
            to_status=action.status,
        )
    if late:
        notify(
            users=_unit_users(action.units.all()),
            kind="accountability_overdue",
            title=_("整改逾期：%(number)s 第%(seqs)s项未按期整改到位")
            % {"number": action.doc_number, "seqs": "、".join(str(i.seq) for i in late)},
            url=_url(action),
            dedupe_key=f"acc-rect-overdue:{action.pk}:" + ",".join(str(i.pk) for i in late),
        )


def unit_tasks_sweep(*, now: dt.datetime | None = None) -> dict:
    """Overdue unit tasks: level 1 tells the unit (liaisons and head) once; after TASK_ESCALATE_DAYS
    more working days, level 2 tells the office leaders and the unit head again."""
    now = now or timezone.now()
    size, max_batches = _batches()
    counts = {"tasks_overdue": 0, "tasks_escalated": 0}
    cutoff = workdays.subtract_workdays(now, acc_setting("TASK_ESCALATE_DAYS"))
    for level, filters, key in (
        (1, Q(escalation_level=0, deadline__lt=now), "tasks_overdue"),
        (2, Q(escalation_level=1, overdue_at__lte=cutoff), "tasks_escalated"),
    ):
        for _n in range(max_batches):
            with transaction.atomic():
                rows = list(
                    UnitTask.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(filters, status__in=OPEN_TASK_STATUSES)
                    .select_related("unit")
                    .order_by("pk")[:size]
                )
                for task in rows:
                    task.escalation_level = level
                    fields = ["escalation_level", "version"]
                    if level == 1:
                        task.overdue_at = now
                        fields.append("overdue_at")
                    task.version += 1
                    task.save(update_fields=fields)
                    UnitTaskEvent.objects.create(
                        task=task,
                        at=now,
                        name="overdue" if level == 1 else "escalated",
                        from_status=task.status,
                        to_status=task.status,
                    )
                    url = reverse("accountability:task-detail", args=[task.pk])
                    if level == 1:
                        users = users_for_unit(task.unit)
                        title = _("工作任务已逾期：%(title)s") % {"title": task.title}
                    else:
                        users = list(office_users(leaders_only=True).values_list("pk", flat=True)) + list(
                            users_for_unit(task.unit, roles=[Role.UNIT_HEAD]).values_list("pk", flat=True)
                        )
                        title = _("工作任务逾期未完成，请督促：%(unit)s %(title)s") % {
                            "unit": task.unit.short_name or task.unit.name,
                            "title": task.title,
                        }
                    notify(
                        users=users,
                        kind="unit_task_overdue",
                        title=title,
                        url=url,
                        dedupe_key=f"task-overdue:{task.pk}:{level}",
                        sms=level == 2,
                    )
                    counts[key] += 1
            if len(rows) < size:
                break
    return counts


def accountability_sweep(*, now: dt.datetime | None = None) -> dict:
    """The periodic sweep: proposals from escalated assignments, overdue rectification, overdue tasks."""
    now = now or timezone.now()
    return {**proposals_sweep(now=now), **rectification_sweep(now=now), **unit_tasks_sweep(now=now)}


# --- unit tasks ----------------------------------------------------------------------------------
def _task_error(message: str, field: str | None = None, kind: str = "invalid") -> WorkflowError:
    return WorkflowError(message, {field: [message]} if field else {}, kind=kind)


@transaction.atomic
def unit_task_assign(
    *,
    actor: User,
    units,
    title: str,
    description: str = "",
    phase: Phase | None = None,
    deadline_days: int | None = None,
    deadline: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[UnitTask]:
    """The office assigns a task to one or more units (one task each) with a working-day deadline."""
    now = now or timezone.now()
    if getattr(actor, "role", None) != Role.OFFICE:
        raise _task_error(_("只有市扫黑办工作人员可以交办任务。"), kind="forbidden")
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("请填写任务名称。")]
    try:
        unit_list = _resolve_units(units)
        if not unit_list:
            errors["units"] = [_("请至少选择一个责任单位。")]
    except WorkflowError as exc:
        errors.update(exc.errors)
        unit_list = []
    if deadline is None and not deadline_days:
        errors["deadline_days"] = [_("请填写完成时限（工作日）或截止日期。")]
    elif deadline is not None and deadline < timezone.localdate(now):
        errors["deadline"] = [_("截止日期不能早于今天。")]
    elif deadline_days is not None and not 1 <= int(deadline_days) <= 250:
        errors["deadline_days"] = [_("完成时限应为 1 至 250 个工作日。")]
    if errors:
        raise WorkflowError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    if deadline is not None:
        due = timezone.make_aware(dt.datetime.combine(deadline, dt.time(23, 59, 59)))
    else:
        due = workdays.add_workdays(now, int(deadline_days))
    tasks = []
    for unit in unit_list:
        task = UnitTask.objects.create(
            phase=phase,
            unit=unit,
            title=title.strip()[:200],
            description=(description or "").strip(),
            deadline=due,
            assigned_by=actor,
            assigned_at=now,
        )
        UnitTaskEvent.objects.create(task=task, at=now, actor=actor, name="assign", to_status=task.status)
        notify(
            users=users_for_unit(unit),
            kind="unit_task_assigned",
            title=_("市扫黑办交办工作任务：%(title)s") % {"title": task.title},
            body=_("完成时限：%(date)s") % {"date": timezone.localtime(due).strftime("%Y-%m-%d")},
            url=reverse("accountability:task-detail", args=[task.pk]),
            dedupe_key=f"task-assigned:{task.pk}",
        )
        tasks.append(task)
    return tasks


@transaction.atomic
def unit_task_report(
    *,
    task_id: int,
    actor: User,
    body: str,
    progress: int,
    is_final: bool = False,
    files=(),
    now: dt.datetime | None = None,
) -> UnitTaskReport:
    """A unit reports progress on its task; a final report (申请报结) sends it to the office for review."""
    now = now or timezone.now()
    task = UnitTask.objects.select_for_update().get(pk=task_id)
    if getattr(actor, "role", None) not in (Role.LIAISON, Role.UNIT_HEAD) or actor.unit_id != task.unit_id:
        raise _task_error(_("只有责任单位可以报告任务进展。"), kind="forbidden")
    if task.status not in OPEN_TASK_STATUSES:
        raise _task_error(
            _("任务当前状态为“%(status)s”，不能报告进展。") % {"status": task.get_status_display()},
            kind="state",
        )
    errors: dict[str, list[str]] = {}
    if not (body or "").strip():
        errors["body"] = [_("请填写进展情况。")]
    try:
        progress = int(progress)
        if not 0 <= progress <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["progress"] = [_("进度应为 0 至 100 之间的整数。")]
    if errors:
        raise WorkflowError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    if is_final:
        progress = 100
    checked = check_files(files, field="attachments")
    report = UnitTaskReport.objects.create(
        task=task,
        body=body.strip(),
        progress=progress,
        is_final=is_final,
        submitted_by=actor,
        submitted_at=now,
    )
    old = task.status
    task.progress = progress
    task.status = TaskStatus.SUBMITTED if is_final else TaskStatus.IN_PROGRESS
    if is_final:
        task.submitted_at = now
    task.version += 1
    task.save(update_fields=["progress", "status", "submitted_at", "version"])
    UnitTaskEvent.objects.create(
        task=task,
        at=now,
        actor=actor,
        name="final_report" if is_final else "report",
        from_status=old,
        to_status=task.status,
        note=body.strip()[:500],
    )
    _store_files(UnitTaskAttachment, "report", report, checked, actor, now)
    if is_final:
        notify(
            users=office_users(),
            kind="unit_task_submitted",
            title=_("%(unit)s申请任务报结：%(title)s")
            % {"unit": task.unit.short_name or task.unit.name, "title": task.title},
            url=reverse("accountability:task-detail", args=[task.pk]),
            dedupe_key=f"task-submitted:{report.pk}",
            email=False,
        )
    return report


@transaction.atomic
def unit_task_review(
    *, task_id: int, actor: User, accept: bool, note: str = "", now: dt.datetime | None = None
) -> UnitTask:
    """The office accepts a task reported done (completed as of the unit's final report) or returns it."""
    now = now or timezone.now()
    task = UnitTask.objects.select_for_update().get(pk=task_id)
    if getattr(actor, "role", None) != Role.OFFICE:
        raise _task_error(_("只有市扫黑办工作人员可以审核任务报结。"), kind="forbidden")
    if task.status != TaskStatus.SUBMITTED:
        raise _task_error(_("该任务没有待审核的报结申请。"), kind="state")
    note = (note or "").strip()
    if not accept and not note:
        raise _task_error(_("请写明退回理由。"), "note")
    old = task.status
    if accept:
        task.status = TaskStatus.DONE
        task.completed_at = task.submitted_at or now
    else:
        task.status = TaskStatus.IN_PROGRESS
        task.submitted_at = None
    task.version += 1
    task.save(update_fields=["status", "completed_at", "submitted_at", "version"])
    UnitTaskEvent.objects.create(
        task=task,
        at=now,
        actor=actor,
        name="accept" if accept else "return",
        from_status=old,
        to_status=task.status,
        note=note,
    )
    notify(
        users=users_for_unit(task.unit),
        kind="unit_task_reviewed",
        title=(_("任务报结已通过：%(title)s") if accept else _("任务报结被退回：%(title)s"))
        % {"title": task.title},
        body=note,
        url=reverse("accountability:task-detail", args=[task.pk]),
        dedupe_key=f"task-reviewed:{task.pk}:{task.version}",
    )
    return task
