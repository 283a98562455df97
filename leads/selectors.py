"""Reads for leads. `lead_list_visible_to` is the ONE place that decides who sees which lead."""

from __future__ import annotations

import datetime as dt

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
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadStatus,
    LeadTip,
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


def lead_get_visible(user: User, lead_id: int) -> Lead:
    """The lead if `user` may see it; Http404 otherwise (the same answer as for a lead that does not exist)."""
    return get_object_or_404(lead_list_with_related(lead_list_visible_to(user)), pk=lead_id)


def _pending_extension_subquery():
    return ExtensionRequest.objects.filter(
        assignment=OuterRef("pk"), status=ExtensionRequest.Status.PENDING
    ).values("pk")[:1]


def assignments_annotated() -> QuerySet[Assignment]:
    return (
        Assignment.objects.select_related("unit")
        .annotate(pending_extension=Subquery(_pending_extension_subquery()))
        .order_by("id")
    )


def lead_list_with_related(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """What a lead row or page shows, in a constant number of queries whatever the number of leads."""
    return qs.select_related("sector", "region", "source", "created_by").prefetch_related(
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
        .filter(unit_id=user.unit_id, status__in=statuses, lead__in=lead_list_visible_to(user))
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
        unit_id=user.unit_id, status__in=OPEN_ASSIGNMENT_STATUSES, lead__in=lead_list_visible_to(user)
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


def traffic_light(deadline: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """green / yellow / red by working days left, black when overdue (红黄灯; thresholds in settings)."""
    if deadline is None:
        return ""
    now = now or timezone.now()
    if deadline < now:
        return "black"
    left = workdays_left(deadline, now)
    if left <= leads_setting("LIGHT_RED_WORKDAYS"):
        return "red"
    if left <= leads_setting("LIGHT_YELLOW_WORKDAYS"):
        return "yellow"
    return "green"
