"""Assessments (考核) per unit and period, computed from the data, and the office's adjustments.

Indicators for unit U in period P (window = P's days up to now, for a period still running):

- on_time: of U's assignments due in the window (deadline in it; sent back / withdrawn ones excluded),
  the share whose result was submitted by the deadline. Weight × share.
- returned: of the same assignments, the share returned for re-verification at least once. Weight × (1 − share).
- handled: leads for which U submitted a result in the window, against the expectation of the sectors U
  regulates (Sector.expected_leads_per_year × the period's share of a year). Weight × min(ratio, 1).
- acceptance: assignments given to U in the window and not signed for within ACCEPT_WORKDAYS working
  days (counted once the time has run out). Weight − deduction per assignment, not below 0.
- publicity: publicity activities held by U in the window, against the target (per quarter, × 4 a year).
  Weight × min(count / target, 1).
- rectification: rectification items of issued actions against U still not accepted at the end of the
  window (open), and items marked overdue in the window. Weight − deductions, not below 0.
- tasks: U's unit tasks due in the window that were not reported done by their deadline. Weight −
  deduction per task, not below 0.

An indicator with nothing to measure (no assignments due, no sector expectation) scores full marks:
nothing was late. A one-vote veto (一票否决) issued against U in the period makes the grade "fail"
whatever the score. Weights, deductions and grade thresholds: accountability.conf ("ASSESSMENT").
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.audit import audit_record
from campaign.models import PublicityActivity, Sector, Unit, User
from campaign.roles import Role
from campaign.workdays import add_workdays
from leads.models import Assignment, AssignmentStatus

from .conf import acc_setting
from .models import (
    Action,
    ActionKind,
    ActionStatus,
    Assessment,
    AssessmentAdjustment,
    Grade,
    PeriodKind,
    RectificationItem,
    UnitTask,
)
from .workflow import WorkflowError

CENT = Decimal("0.01")
EXCLUDED_ASSIGNMENT_STATUSES = (AssignmentStatus.SENT_BACK, AssignmentStatus.WITHDRAWN)
INDICATORS = ("on_time", "returned", "handled", "acceptance", "publicity", "rectification", "tasks")


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the quarter or year containing `day`."""
    if kind == PeriodKind.YEAR:
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    first_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first_month, 1)
    next_start = dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
    return start, next_start - dt.timedelta(days=1)


def _window(start: dt.date, end: dt.date, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return lo, min(hi, now)


def assessed_units():
    return Unit.objects.filter(is_active=True, kind__in=acc_setting("ASSESSMENT")["unit_kinds"]).order_by(
        "sort_order", "code"
    )


def unit_metrics(*, unit: Unit, kind: str, start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    """The raw counts behind each indicator (no weights)."""
    lo, hi = _window(start, end, now)
    conf = acc_setting("ASSESSMENT")
    mine = Assignment.objects.filter(unit=unit).exclude(status__in=EXCLUDED_ASSIGNMENT_STATUSES)
    due = mine.filter(deadline__gte=lo, deadline__lt=hi)
    due_count = due.count()
    on_time = due.filter(submitted_at__isnull=False, submitted_at__lte=F("deadline")).count()
    returned = due.filter(returned_count__gt=0).count()
    handled = (
        Assignment.objects.filter(unit=unit, submitted_at__gte=lo, submitted_at__lt=hi)
        .values("lead_id")
        .distinct()
        .count()
    )
    share = Decimal(1) if kind == PeriodKind.YEAR else Decimal(1) / Decimal(4)
    per_year = sum(Sector.objects.filter(lead_unit=unit).values_list("expected_leads_per_year", flat=True))
    expected = _q(Decimal(per_year) * share)
    accept_days = acc_setting("ACCEPT_WORKDAYS")
    not_accepted = 0
    for assigned_at, accepted_at in mine.filter(assigned_at__gte=lo, assigned_at__lt=hi).values_list(
        "assigned_at", "accepted_at"
    ):
        limit = add_workdays(assigned_at, accept_days)
        if (accepted_at is None and limit < hi) or (accepted_at is not None and accepted_at > limit):
            not_accepted += 1
    publicity = PublicityActivity.objects.filter(unit=unit, held_on__gte=start, held_on__lte=end).count()
    target = conf["publicity_target_per_quarter"] * (4 if kind == PeriodKind.YEAR else 1)
    items = RectificationItem.objects.filter(action__units=unit, action__issued_at__lt=hi).exclude(
        action__status__in=[ActionStatus.DRAFT, ActionStatus.DISMISSED]
    )
    open_items = items.filter(Q(accepted_at__isnull=True) | Q(accepted_at__gte=hi)).count()
    overdue_items = items.filter(overdue_at__gte=lo, overdue_at__lt=hi).count()
    overdue_tasks = (
        UnitTask.objects.filter(unit=unit, deadline__gte=lo, deadline__lt=hi)
        .filter(
            Q(submitted_at__isnull=True, completed_at__isnull=True)
            | Q(completed_at__gt=F("deadline"))
            | Q(completed_at__isnull=True, submitted_at__gt=F("deadline"))
        )
        .count()
    )
    veto = (
        Action.objects.filter(
            kind=ActionKind.VETO,
            units=unit,
            issued_at__gte=lo,
            issued_at__lt=_window(start, end, dt.datetime.max.replace(tzinfo=dt.UTC))[1],
        )
        .exclude(status__in=[ActionStatus.DRAFT, ActionStatus.DISMISSED])
        .order_by("issued_at")
        .first()
    )
    return {
        "due": due_count,
        "on_time": on_time,
        "returned": returned,
        "handled": handled,
        "expected": expected,
        "not_accepted": not_accepted,
        "publicity": publicity,
        "publicity_target": target,
        "open_rectifications": open_items,
        "overdue_rectifications": overdue_items,
        "overdue_tasks": overdue_tasks,
        "veto_action_id": veto.pk if veto else None,
        "veto_number": veto.doc_number if veto else "",
    }


def score_metrics(raw: dict) -> tuple[dict, Decimal]:
    """Weights and deductions applied to the raw counts: per-indicator detail and the total score."""
    conf = acc_setting("ASSESSMENT")
    w = {k: Decimal(str(v)) for k, v in conf["weights"].items()}
    one = Decimal(1)
    due = raw["due"]
    on_time_rate = Decimal(raw["on_time"]) / due if due else None
    returned_share = Decimal(raw["returned"]) / due if due else None
    expected = Decimal(str(raw["expected"]))
    handled_ratio = min(Decimal(raw["handled"]) / expected, one) if expected > 0 else None
    target = raw["publicity_target"]
    publicity_ratio = min(Decimal(raw["publicity"]) / target, one) if target else None
    detail = {
        "on_time": {
            "value": _q(on_time_rate * 100) if on_time_rate is not None else None,
            "score": w["on_time"] * (on_time_rate if on_time_rate is not None else one),
        },
        "returned": {
            "value": _q(returned_share * 100) if returned_share is not None else None,
            "score": w["returned"] * (one - returned_share if returned_share is not None else one),
        },
        "handled": {
            "value": _q(handled_ratio * 100) if handled_ratio is not None else None,
            "score": w["handled"] * (handled_ratio if handled_ratio is not None else one),
        },
        "acceptance": {
            "value": raw["not_accepted"],
            "score": max(
                Decimal(0), w["acceptance"] - Decimal(str(conf["deduct_not_accepted"])) * raw["not_accepted"]
            ),
        },
        "publicity": {
            "value": raw["publicity"],
            "score": w["publicity"] * (publicity_ratio if publicity_ratio is not None else one),
        },
        "rectification": {
            "value": raw["open_rectifications"],
            "score": max(
                Decimal(0),
                w["rectification"]
                - Decimal(str(conf["deduct_open_rectification"])) * raw["open_rectifications"]
                - Decimal(str(conf["deduct_overdue_rectification"])) * raw["overdue_rectifications"],
            ),
        },
        "tasks": {
            "value": raw["overdue_tasks"],
            "score": max(
                Decimal(0), w["tasks"] - Decimal(str(conf["deduct_overdue_task"])) * raw["overdue_tasks"]
            ),
        },
    }
    for name, entry in detail.items():
        entry["score"] = _q(entry["score"])
        entry["weight"] = w[name]
    total = _q(sum((e["score"] for e in detail.values()), Decimal(0)))
    return detail, total


def grade_for(score: Decimal, vetoed: bool) -> str:
    if vetoed:
        return Grade.FAIL
    for grade, threshold in acc_setting("ASSESSMENT")["grades"]:
        if score >= Decimal(str(threshold)):
            return grade
    return Grade.FAIL


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rerank(kind: str, start: dt.date) -> dict[int, int]:
    rows = list(Assessment.objects.filter(period_kind=kind, period_start=start).select_related("unit"))
    rows.sort(key=lambda a: (a.vetoed, -a.score, a.unit.sort_order, a.unit.code))
    for n, row in enumerate(rows, start=1):
        if row.rank != n:
            row.rank = n
            row.save(update_fields=["rank"])
    return {row.pk: row.rank for row in rows}


@transaction.atomic
def assessments_compute(
    *, kind: str, day: dt.date, units=None, now: dt.datetime | None = None
) -> list[Assessment]:
    """Compute (or recompute) the assessments of the period containing `day`; adjustments are kept."""
    now = now or timezone.now()
    start, end = period_bounds(kind, day)
    out = []
    for unit in units if units is not None else assessed_units():
        raw = unit_metrics(unit=unit, kind=kind, start=start, end=end, now=now)
        detail, computed = score_metrics(raw)
        existing = (
            Assessment.objects.select_for_update()
            .filter(unit=unit, period_kind=kind, period_start=start)
            .first()
        )
        adjustment = existing.adjustment if existing else Decimal(0)
        score = _q(computed + adjustment)
        vetoed = raw["veto_action_id"] is not None
        values = {
            "period_end": end,
            "metrics": _jsonable({"raw": raw, "detail": detail}),
            "computed_score": computed,
            "score": score,
            "vetoed": vetoed,
            "veto_action_id": raw["veto_action_id"],
            "grade": grade_for(score, vetoed),
            "computed_at": now,
        }
        if existing:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save(update_fields=list(values))
            out.append(existing)
        else:
            out.append(Assessment.objects.create(unit=unit, period_kind=kind, period_start=start, **values))
    ranks = _rerank(kind, start)
    for row in out:
        row.rank = ranks.get(row.pk)
    return out


def assessments_compute_current(*, now: dt.datetime | None = None) -> dict:
    """The nightly run: this quarter and year, and the previous quarter (and year) so late data counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = {today}
    prev_quarter_end = period_bounds(PeriodKind.QUARTER, today)[0] - dt.timedelta(days=1)
    if (today - prev_quarter_end).days <= 31:
        days.add(prev_quarter_end)
    count = 0
    done = set()
    for day in sorted(days):
        for kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
            key = (kind, period_bounds(kind, day)[0])
            if key in done:
                continue
            done.add(key)
            count += len(assessments_compute(kind=kind, day=day, now=now))
    return {"assessments": count, "periods": len(done)}


def assessments_apply_veto(*, action: Action, units) -> int:
    """A veto just issued: every existing assessment of the units whose period contains the issue date fails."""
    day = timezone.localdate(action.issued_at)
    changed = 0
    touched = set()
    for kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
        start, _end = period_bounds(kind, day)
        for row in Assessment.objects.select_for_update().filter(
            unit__in=list(units), period_kind=kind, period_start=start
        ):
            row.vetoed = True
            row.veto_action = action
            row.grade = Grade.FAIL
            metrics = dict(row.metrics or {})
            raw = dict(metrics.get("raw") or {})
            raw.update(veto_action_id=action.pk, veto_number=action.doc_number)
            metrics["raw"] = raw
            row.metrics = metrics
            row.save(update_fields=["vetoed", "veto_action", "grade", "metrics"])
            changed += 1
            touched.add((kind, start))
    for kind, start in touched:
        _rerank(kind, start)
    return changed


@transaction.atomic
def assessment_adjust(
    *, assessment_id: int, actor: User, adjustment, reason: str, ip: str | None = None
) -> Assessment:
    """The office sets an adjustment (±points) with a required reason; logged and audited."""
    if getattr(actor, "role", None) != Role.OFFICE:
        raise WorkflowError(_("只有市扫黑办工作人员可以调整考核结果。"), kind="forbidden")
    errors: dict[str, list[str]] = {}
    try:
        value = _q(Decimal(str(adjustment)))
        if not Decimal(-100) <= value <= Decimal(100):
            raise ValueError
    except (ArithmeticError, ValueError, TypeError):
        errors["adjustment"] = [_("调整分应为 -100 至 100 之间的数字。")]
        value = Decimal(0)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请填写调整理由。")]
    if errors:
        raise WorkflowError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    row = Assessment.objects.select_for_update().get(pk=assessment_id)
    old = row.adjustment
    row.adjustment = value
    row.adjustment_reason = reason
    row.adjusted_by = actor
    row.adjusted_at = timezone.now()
    row.score = _q(row.computed_score + value)
    row.grade = grade_for(row.score, row.vetoed)
    row.save(
        update_fields=["adjustment", "adjustment_reason", "adjusted_by", "adjusted_at", "score", "grade"]
    )
    AssessmentAdjustment.objects.create(
        assessment=row,
        old_adjustment=old,
        new_adjustment=value,
        reason=reason,
        actor=actor,
        at=row.adjusted_at,
    )
    audit_record(
        actor=actor,
        action="accountability.assessment_adjust",
        target=row,
        reason=reason,
        data={"unit": row.unit.code, "period": row.period_label, "old": str(old), "new": str(value)},
        ip=ip,
    )
    row.rank = _rerank(row.period_kind, row.period_start).get(row.pk)
    return row
