"""Reads for leads. `lead_list_visible_to` is the ONE place that decides who sees which lead."""

from __future__ import annotations

import datetime as dt
import time

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from campaign import workdays
from campaign.models import Unit, User
from campaign.roles import Role
from reports.models import Tip, TipStatus

from .conf import leads_setting
from .models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    CallBack,
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadSource,
    LeadStatus,
    LeadTip,
    ReportBack,
    Result,
    SendBack,
    SignOff,
    StageReportRequest,
)
from .workflow import allowed_actions

# Roles that read every (unrestricted) lead; unit roles see their unit's; discipline sees referrals.
READ_ALL_ROLES = frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN})


def _restricted_visible(user: User) -> Q:
    """Restricted leads (限制知悉范围): only their creator, handlers, office leaders and discipline."""
    if user.role == Role.OFFICE and user.is_office_leader:
        return Q()
    handled = Exists(LeadEvent.objects.filter(lead=OuterRef("pk"), actor=user))
    return Q(restricted=False) | Q(created_by=user) | Q(handled)


def lead_list_visible_to(user: User) -> QuerySet[Lead]:
    """Every lead `user` may see. Pages, API, exports and attachment downloads all start here."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Lead.objects.none()
    role = user.role
    qs = Lead.objects.all()
    if role in READ_ALL_ROLES:
        return qs.filter(_restricted_visible(user))
    if role in (Role.LIAISON, Role.UNIT_HEAD):
        if not user.unit_id:
            return Lead.objects.none()
        # Current and past assignments: a unit that handled a lead keeps seeing its history.
        return qs.filter(Exists(Assignment.objects.filter(lead=OuterRef("pk"), unit_id=user.unit_id)))
    if role == Role.POLICE:
        mine = Q(created_by=user)
        if user.unit_id:
            mine |= Q(Exists(Assignment.objects.filter(lead=OuterRef("pk"), unit_id=user.unit_id)))
        return qs.filter(mine)
    if role == Role.DISCIPLINE:
        # Referred leads, and restricted ones (issue 11: discipline inspection is always in the circle).
        return qs.filter(Q(discipline_referred=True) | Q(restricted=True))
    return Lead.objects.none()


def _own_unit_visible(user: User) -> Q:
    """For querysets of the user's own unit's assignments: the leads the user may see.

    A unit role sees every lead its unit has (or had) an assignment on (lead_list_visible_to), so an
    assignment of its own unit needs no check; that keeps the workspace's counts off a semi-join over
    every open assignment. Other roles (the office looking at a unit) keep the full rule."""
    if user.role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        return Q()
    return Q(lead__in=lead_list_visible_to(user))


def restricted_tips_rule(user: User) -> Q:
    """For reports.selectors.tip_list_visible_to (registered in LeadsConfig.ready()): a tip behind a
    restricted lead is seen by those who may see that lead — the same circle, decided above.

    An uncorrelated IN: PostgreSQL hashes it once per query, starting from the few marked tips (partial
    index tip_restricted) rather than from every lead the user sees, and prices it as such (a correlated
    EXISTS here is costed so high that counting 10,000 tips pays ~35 ms of JIT compilation)."""
    behind = LeadTip.objects.filter(tip__restricted=True, lead__in=lead_list_visible_to(user))
    return Q(pk__in=behind.values("tip_id"))


def lead_get_visible(user: User, lead_id: int) -> Lead:
    """The lead if `user` may see it; Http404 otherwise (the same answer as for a lead that does not exist)."""
    return get_object_or_404(lead_list_with_related(lead_list_visible_to(user)), pk=lead_id)


def _pending_extension_subquery():
    return ExtensionRequest.objects.filter(
        assignment=OuterRef("pk"), status=ExtensionRequest.Status.PENDING
    ).values("pk")[:1]


def _pending_stage_subquery():
    return StageReportRequest.objects.filter(
        assignment=OuterRef("pk"), status=StageReportRequest.Status.PENDING
    ).values("pk")[:1]


def assignments_annotated() -> QuerySet[Assignment]:
    return (
        Assignment.objects.select_related("unit", "signoff")
        .annotate(
            pending_extension=Subquery(_pending_extension_subquery()),
            pending_stage=Subquery(_pending_stage_subquery()),
        )
        .order_by("id")
    )


def lead_list_with_related(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """What a lead row or page shows, in a constant number of queries whatever the number of leads."""
    return qs.select_related("sector", "region", "source", "created_by", "closure_signoff").prefetch_related(
        Prefetch("assignments", queryset=assignments_annotated(), to_attr="assignment_list"),
        Prefetch("lead_tips", queryset=LeadTip.objects.only("id", "lead_id", "tip_id"), to_attr="tip_links"),
    )


def lead_allowed_actions(lead: Lead, user: User, now: dt.datetime | None = None) -> list[str]:
    assignments = getattr(lead, "assignment_list", None)
    if assignments is None:
        assignments = list(assignments_annotated().filter(lead=lead))
    return allowed_actions(lead, user, assignments, now)


def lead_units(lead: Lead) -> list[Unit]:
    """Units with an active assignment, primary first."""
    active = [a for a in getattr(lead, "assignment_list", []) if a.is_active]
    active.sort(key=lambda a: (not a.is_primary, a.pk))
    return [a.unit for a in active]


def lead_primary_unit(lead: Lead) -> Unit | None:
    units = lead_units(lead)
    return units[0] if units else None


def lead_timeline(lead: Lead) -> QuerySet[LeadEvent]:
    return (
        LeadEvent.objects.filter(lead=lead)
        .select_related("actor", "actor__unit", "assignment__unit")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )


def can_see_findings(user: User, assignment: Assignment) -> bool:
    """Co-units share a lead's progress, but a unit's findings are read by the office, leaders,
    discipline and that unit itself."""
    if user.role in (Role.OFFICE, Role.LEADER, Role.ADMIN, Role.DISCIPLINE):
        return True
    return user.unit_id is not None and user.unit_id == assignment.unit_id


# --- lists per role ------------------------------------------------------------------------------
def assignment_list_for_unit(*, user: User, include_done: bool = False) -> QuerySet[Assignment]:
    """The liaison workspace: the unit's assignments, open ones by deadline (visible leads only)."""
    statuses = list(OPEN_ASSIGNMENT_STATUSES) + ([AssignmentStatus.SUBMITTED] if include_done else [])
    return (
        assignments_annotated()
        .filter(_own_unit_visible(user), unit_id=user.unit_id, status__in=statuses)
        .select_related("lead", "lead__sector", "lead__region")
        .order_by("deadline", "id")
    )


def assignment_list_due(*, unit_id: int, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    """The unit head's list: open assignments overdue or due within NEAR_DUE_WORKDAYS working days."""
    now = now or timezone.now()
    cutoff = workdays.add_workdays(now, leads_setting("NEAR_DUE_WORKDAYS"))
    return (
        assignments_annotated()
        .filter(unit_id=unit_id, status__in=OPEN_ASSIGNMENT_STATUSES, deadline__lte=cutoff)
        .select_related("lead", "lead__sector", "lead__region", "accepted_by")
        .order_by("deadline", "id")
    )


def assignment_list_open(*, unit_id: int) -> QuerySet[Assignment]:
    """All of a unit's open assignments (the unit head's list when filtered by a light)."""
    return (
        assignments_annotated()
        .filter(unit_id=unit_id, status__in=OPEN_ASSIGNMENT_STATUSES)
        .select_related("lead", "lead__sector", "lead__region", "accepted_by")
        .order_by("deadline", "id")
    )


def review_queue(user: User) -> dict:
    """The office review queue: results to review, extension requests, send-backs to settle."""
    visible = lead_list_visible_to(user)
    return {
        "verified": lead_list_with_related(visible.filter(status=LeadStatus.VERIFIED)).order_by(
            "verified_at", "id"
        ),
        "extensions": ExtensionRequest.objects.filter(
            status=ExtensionRequest.Status.PENDING, assignment__lead__in=visible
        )
        .select_related("assignment__unit", "assignment__lead", "requested_by")
        .order_by("requested_at", "id"),
        "sent_back": Assignment.objects.filter(
            status=AssignmentStatus.SENT_BACK, closed_at__isnull=True, lead__in=visible
        )
        .select_related("unit", "lead")
        .order_by("sent_back_at", "id"),
        "partial": Assignment.objects.filter(
            status=AssignmentStatus.SUBMITTED, lead__status=LeadStatus.VERIFYING, lead__in=visible
        )
        .select_related("unit", "lead")
        .order_by("submitted_at", "id"),
    }


def lead_list_referred(user: User) -> QuerySet[Lead]:
    return lead_list_with_related(lead_list_visible_to(user).filter(discipline_referred=True)).order_by(
        "-discipline_referred_at", "-id"
    )


def tip_list_for_triage() -> QuerySet[Tip]:
    """New tips waiting for the office's decision, oldest first (first come, first triaged)."""
    return (
        Tip.objects.filter(status=TipStatus.NEW)
        .select_related("sector", "sector__lead_unit", "region")
        .order_by("received_at", "id")
    )


def status_counts(qs: QuerySet[Lead]) -> dict[str, int]:
    rows = qs.order_by().values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def workspace_counts(user: User, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    qs = Assignment.objects.filter(
        _own_unit_visible(user), unit_id=user.unit_id, status__in=OPEN_ASSIGNMENT_STATUSES
    )
    soon = workdays.add_workdays(now, leads_setting("NEAR_DUE_WORKDAYS"))
    return qs.aggregate(
        open=Count("id"),
        to_accept=Count("id", filter=Q(status=AssignmentStatus.ASSIGNED)),
        overdue=Count("id", filter=Q(deadline__lt=now)),
        near_due=Count("id", filter=Q(deadline__gte=now, deadline__lte=soon)),
    )


# --- display helpers (no queries) ----------------------------------------------------------------
def workdays_left(deadline: dt.datetime, now: dt.datetime | None = None) -> int:
    """Working days from today to the deadline's day: 0 = due today, negative = overdue by that many."""
    return workdays.workdays_between(now or timezone.now(), deadline)


LIGHTS = ("green", "yellow", "red", "black")
_LIGHT_BOUNDS: dict[tuple, tuple[tuple[dt.datetime, dt.datetime], float]] = {}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def light_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """(red_before, yellow_before): an open deadline at or after `now` is red below the first, yellow
    below the second, green from there on; before `now` it is black (超期).

    "At most N working days left" (workdays_left ≤ N) is "the deadline falls before the (N+1)-th working
    day after today", so each light is one range on `deadline` — an indexed comparison, not Python.
    """
    now = now or timezone.now()
    red = leads_setting("LIGHT_RED_WORKDAYS")
    yellow = leads_setting("LIGHT_YELLOW_WORKDAYS")
    # A page or API list asks with one `now` for every row; the bounds depend only on its day.
    # Kept a minute, so a calendar edit reaches the lights as soon as campaign.workdays sees it.
    key = (timezone.localdate(now), red, yellow)
    cached = _LIGHT_BOUNDS.get(key)
    if cached is not None and time.monotonic() - cached[1] < 60:
        return cached[0]
    bounds = (
        _day_start(timezone.localtime(workdays.add_workdays(now, red + 1)).date()),
        _day_start(timezone.localtime(workdays.add_workdays(now, yellow + 1)).date()),
    )
    if len(_LIGHT_BOUNDS) > 64:
        _LIGHT_BOUNDS.clear()
    _LIGHT_BOUNDS[key] = (bounds, time.monotonic())
    return bounds


def light_q(light: str, now: dt.datetime | None = None, field: str = "deadline") -> Q:
    """The condition on `field` for one light (unknown lights match nothing)."""
    now = now or timezone.now()
    red_before, yellow_before = light_bounds(now)
    ranges = {
        "black": (None, now),
        "red": (now, red_before),
        "yellow": (red_before, yellow_before),
        "green": (yellow_before, None),
    }
    if light not in ranges:
        return Q(pk__in=[])
    low, high = ranges[light]
    q = Q(**{f"{field}__isnull": False})
    if low is not None:
        q &= Q(**{f"{field}__gte": low})
    if high is not None:
        q &= Q(**{f"{field}__lt": high})
    return q


def traffic_light(deadline: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """green / yellow / red by working days left, black when overdue (红黄灯; thresholds in settings).
    The same ranges as `light_q`, so a row shows the light its filter finds it under."""
    if deadline is None:
        return ""
    now = now or timezone.now()
    if deadline < now:
        return "black"
    red_before, yellow_before = light_bounds(now)
    if deadline < red_before:
        return "red"
    if deadline < yellow_before:
        return "yellow"
    return "green"


def light_counts(
    units=None, *, now: dt.datetime | None = None, user: User | None = None
) -> dict[int, dict[str, int]]:
    """Open assignments per unit by light: {unit_id: {"green", "yellow", "red", "black", "open"}}.

    For dashboards and assessments; `units` (Units or ids) narrows it, `user` keeps only leads that
    user may see (restricted ones out of everyone else's figures)."""
    now = now or timezone.now()
    red_before, yellow_before = light_bounds(now)
    qs = Assignment.objects.filter(status__in=OPEN_ASSIGNMENT_STATUSES)
    if units is not None:
        qs = qs.filter(unit__in=list(units))
    if user is not None:
        if units is not None and {getattr(u, "pk", u) for u in units} == {user.unit_id}:
            qs = qs.filter(_own_unit_visible(user))
        else:
            qs = qs.filter(lead__in=lead_list_visible_to(user))
    rows = (
        qs.order_by()
        .values("unit_id")
        .annotate(
            open=Count("id"),
            black=Count("id", filter=Q(deadline__lt=now)),
            red=Count("id", filter=Q(deadline__gte=now, deadline__lt=red_before)),
            yellow=Count("id", filter=Q(deadline__gte=red_before, deadline__lt=yellow_before)),
            green=Count("id", filter=Q(deadline__gte=yellow_before)),
        )
    )
    return {r.pop("unit_id"): r for r in rows}


# --- figures for assessments ---------------------------------------------------------------------
def _bounds(start, end) -> tuple[dt.datetime, dt.datetime]:
    """Datetimes are taken as [start, end); dates as whole local calendar days, both included."""
    if not isinstance(start, dt.datetime):
        start = _day_start(start)
    if not isinstance(end, dt.datetime):
        end = _day_start(end + dt.timedelta(days=1))
    return start, end


def sendback_counts(unit, start, end) -> dict[str, int]:
    """A unit's send-backs (退单) in a period, by the office's decision:
    {"total", "accepted", "refused", "pending"} — refused ones count against the unit in assessments."""
    start, end = _bounds(start, end)
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    return SendBack.objects.filter(unit_id=unit_id, sent_back_at__gte=start, sent_back_at__lt=end).aggregate(
        total=Count("id"),
        accepted=Count("id", filter=Q(decision=SendBack.Decision.ACCEPTED)),
        refused=Count("id", filter=Q(decision=SendBack.Decision.REFUSED)),
        pending=Count("id", filter=Q(decision=SendBack.Decision.PENDING)),
    )


def sendback_counts_by_unit(start, end) -> dict[int, dict[str, int]]:
    start, end = _bounds(start, end)
    rows = (
        SendBack.objects.filter(sent_back_at__gte=start, sent_back_at__lt=end)
        .order_by()
        .values("unit_id")
        .annotate(
            total=Count("id"),
            accepted=Count("id", filter=Q(decision=SendBack.Decision.ACCEPTED)),
            refused=Count("id", filter=Q(decision=SendBack.Decision.REFUSED)),
            pending=Count("id", filter=Q(decision=SendBack.Decision.PENDING)),
        )
    )
    return {r.pop("unit_id"): r for r in rows}


def satisfaction_by_unit(start, end, units=None) -> dict[int, dict]:
    """Call-back outcomes (回访满意度) recorded in a period, per unit that verified the lead:
    {unit_id: {"satisfied", "basically", "unsatisfied", "total", "rate"}}; rate = (满意 + 基本满意) / total."""
    start, end = _bounds(start, end)
    qs = Assignment.objects.filter(
        status=AssignmentStatus.SUBMITTED,
        lead__callbacks__status=CallBack.Status.DONE,
        lead__callbacks__recorded_at__gte=start,
        lead__callbacks__recorded_at__lt=end,
    )
    if units is not None:
        qs = qs.filter(unit__in=list(units))
    rows = qs.order_by().values("unit_id", "lead__callbacks__outcome").annotate(n=Count("lead__callbacks"))
    out: dict[int, dict] = {}
    for r in rows:
        item = out.setdefault(r["unit_id"], dict.fromkeys(CallBack.Outcome.values, 0) | {"total": 0})
        item[r["lead__callbacks__outcome"]] += r["n"]
        item["total"] += r["n"]
    for item in out.values():
        good = item[CallBack.Outcome.SATISFIED] + item[CallBack.Outcome.BASICALLY]
        item["rate"] = round(good / item["total"], 4) if item["total"] else None
    return out


def source_counts(qs: QuerySet[Lead]) -> list[dict]:
    """Leads of `qs` per source (线索来源), in the office's order, sources without leads included."""
    counts = dict(qs.order_by().values("source_id").annotate(n=Count("id")).values_list("source_id", "n"))
    rows = [
        {"code": s.code, "name": s.name, "count": counts.get(s.pk, 0)}
        for s in LeadSource.objects.order_by("sort_order", "code")
    ]
    if counts.get(None):
        rows.append({"code": "", "name": "未填来源", "count": counts[None]})
    return rows


# --- practice queues -----------------------------------------------------------------------------
def assignment_list_signoff(*, user: User) -> QuerySet[Assignment]:
    """The unit head's queue: results the liaisons put up for sign-off (签字背书), oldest first."""
    return (
        assignments_annotated()
        .filter(
            unit_id=user.unit_id,
            status=AssignmentStatus.ACCEPTED,
            signoff_requested_at__isnull=False,
            signoff__isnull=True,
            lead__in=lead_list_visible_to(user),
        )
        .select_related("lead", "lead__sector", "lead__region", "signoff_requested_by")
        .order_by("signoff_requested_at", "id")
    )


def lead_list_for_review(user: User, *, pending_only: bool = False) -> QuerySet[Lead]:
    """评查: leads closed as 查否 and reported again (most often first), and any with a review pending."""
    visible = lead_list_visible_to(user)
    cond = Q(review_pending=True)
    if not pending_only:
        cond |= Q(repeat_count__gt=0, result=Result.UNSUBSTANTIATED)
    return lead_list_with_related(visible.filter(cond)).order_by(
        "-review_pending", "-repeat_count", "-closed_at", "-id"
    )


def callback_list(user: User, *, month: dt.date | None = None, status: str = "") -> QuerySet[CallBack]:
    qs = CallBack.objects.filter(lead__in=lead_list_visible_to(user)).select_related(
        "lead", "lead__sector", "lead__region", "tip", "recorded_by"
    )
    if month is not None:
        qs = qs.filter(month=month)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "lead__closed_at", "id")


def lead_signoffs(lead: Lead) -> list[SignOff]:
    return list(
        SignOff.objects.filter(lead=lead).select_related("assignment__unit").order_by("signed_at", "id")
    )


def lead_report_backs(lead: Lead) -> list[ReportBack]:
    return list(
        ReportBack.objects.filter(lead=lead)
        .select_related("assignment__unit", "created_by")
        .order_by("created_at", "id")
    )
