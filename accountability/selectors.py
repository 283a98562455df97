"""Reads for accountability. Scoping lives here, used by pages and API alike.

Who sees what: the office, administrators and leaders see every action (leaders read only); a unit's
liaisons and head see the issued actions against their own unit, never drafts (proposals are the
office's internal work); discipline inspection sees every issued action. Anyone else sees none, and an
action out of scope answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from campaign.roles import Role

from .models import (
    OPEN_TASK_STATUSES,
    Action,
    ActionStatus,
    Assessment,
    ItemStatus,
    RectificationItem,
    RectificationReport,
    UnitTask,
)
from .workflow import allowed_actions

ALL_ACTIONS_ROLES = frozenset({Role.OFFICE, Role.ADMIN, Role.LEADER})
ACTION_ROLES = ALL_ACTIONS_ROLES | {Role.DISCIPLINE, Role.LIAISON, Role.UNIT_HEAD}
ASSESSMENT_ROLES = frozenset({Role.OFFICE, Role.ADMIN, Role.LEADER, Role.LIAISON, Role.UNIT_HEAD})
TASK_ROLES = frozenset({Role.OFFICE, Role.ADMIN, Role.LEADER, Role.LIAISON, Role.UNIT_HEAD})
BACKTRACK_ROLES = frozenset({Role.OFFICE, Role.ADMIN, Role.LEADER, Role.DISCIPLINE})
NOT_DRAFT = ~Q(status__in=[ActionStatus.DRAFT, ActionStatus.DISMISSED])


def action_list_visible_to(user) -> QuerySet[Action]:
    role = getattr(user, "role", None)
    qs = Action.objects.all()
    if role in ALL_ACTIONS_ROLES:
        return qs
    if role == Role.DISCIPLINE:
        return qs.filter(NOT_DRAFT)
    if role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        return qs.filter(NOT_DRAFT, units=user.unit_id).distinct()
    return qs.none()


def action_list_with_related(qs: QuerySet[Action]) -> QuerySet[Action]:
    """What list pages and the API list show, in a fixed number of queries."""
    return (
        qs.select_related("created_by", "issued_by")
        .prefetch_related("units")
        .annotate(
            item_count=Count("items", distinct=True),
            open_item_count=Count("items", filter=~Q(items__status=ItemStatus.ACCEPTED), distinct=True),
            lead_count=Count("leads", distinct=True),
        )
    )


def action_get_visible(user, action_id: int) -> Action:
    """The action if `user` may see it; Action.DoesNotExist otherwise (pages and API answer 404)."""
    return action_list_visible_to(user).select_related("created_by", "issued_by", "parent").get(pk=action_id)


def action_detail(action: Action) -> dict:
    """Items with reports and evidence, units, persons, leads, escalations and the timeline."""
    items = list(
        action.items.prefetch_related(
            Prefetch(
                "reports",
                queryset=RectificationReport.objects.select_related("submitted_by", "decided_by", "unit")
                .prefetch_related("evidence")
                .order_by("submitted_at", "id"),
            )
        ).order_by("seq")
    )
    return {
        "items": items,
        "units": list(action.units.all()),
        "persons": list(action.persons.select_related("unit")),
        "leads": list(action.leads.select_related("sector", "region").order_by("number")),
        "escalations": list(action.escalations.select_related("assignment__unit", "assignment__lead")),
        "events": list(action.events.select_related("actor", "item").order_by("at", "id")),
        "followups": list(action.followups.all()),
    }


def action_allowed(action: Action, user, items: list | None = None, units: list | None = None) -> list[str]:
    unit_ids = {u.pk for u in units} if units is not None else None
    return allowed_actions(action, user, items=items, unit_ids=unit_ids)


def proposal_queue() -> QuerySet[Action]:
    return Action.objects.filter(status=ActionStatus.DRAFT).order_by("-created_at", "-id")


def rectification_items_for_unit(unit_id: int, *, open_only: bool = True) -> QuerySet[RectificationItem]:
    """Rectification items of issued actions against a unit (open ones first by deadline)."""
    qs = RectificationItem.objects.filter(action__units=unit_id).filter(
        action__status__in=[
            ActionStatus.ISSUED,
            ActionStatus.RECTIFYING,
            ActionStatus.OVERDUE,
            ActionStatus.RECTIFIED,
        ]
    )
    if open_only:
        qs = qs.exclude(status=ItemStatus.ACCEPTED)
    return qs.select_related("action").order_by("deadline", "id")


def assessment_list_visible_to(user) -> QuerySet[Assessment]:
    role = getattr(user, "role", None)
    qs = Assessment.objects.select_related("unit", "veto_action")
    if role in (Role.OFFICE, Role.ADMIN, Role.LEADER):
        return qs
    if role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    return qs.none()


def unit_task_list_visible_to(user) -> QuerySet[UnitTask]:
    role = getattr(user, "role", None)
    qs = UnitTask.objects.select_related("unit", "phase", "assigned_by")
    if role in (Role.OFFICE, Role.ADMIN, Role.LEADER):
        return qs
    if role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    return qs.none()


def unit_task_open_for_unit(unit_id: int) -> QuerySet[UnitTask]:
    return UnitTask.objects.filter(unit_id=unit_id, status__in=OPEN_TASK_STATUSES).order_by("deadline")
