"""Figures of the weekly bulletin (周通报) and of assessments: per member unit and per district, what was
received, closed, the closure / substantiation / on-time rates, red lights, overdue, and a ranking.

Reads only; two grouped queries whatever the number of units and districts. Restricted leads (限制知悉)
are left out: the bulletin goes to every member unit.

Definitions (GLOSSARY.md: 查结率, 查实率, 按期办结率):
- a unit's lead counts as received when assigned to it (and still its own: not withdrawn or sent back
  with the office's agreement); closed when the unit answered and the office closed the lead;
- substantiated: the unit found it 属实 or 部分属实 (a 查否 closure never counts as a case found);
- on time: the unit answered by its deadline (extensions granted included);
- red light and overdue: open assignments now (the bulletin is drawn up as of its generation).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from campaign.models import Region, Unit

from .models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Lead,
    LeadStatus,
    Result,
)
from .selectors import light_bounds

FOUND = (Result.SUBSTANTIATED, Result.PARTLY)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal (None when there is nothing to divide by)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rank(rows: list[dict]) -> None:
    """Rank rows that received anything: closure rate, then on-time rate (higher first), then fewer
    overdue; equal figures share a rank (1, 2, 2, 4)."""
    ranked = [r for r in rows if r["total"]]

    def key(r):
        return (-(r["closure_rate"] or 0), -(r["on_time_rate"] or 0), r["overdue"], r["red"])

    ranked.sort(key=key)
    previous = None
    for position, row in enumerate(ranked, start=1):
        row["rank"] = previous[1] if previous and key(previous[0]) == key(row) else position
        previous = (row, row["rank"])
    for row in rows:
        row.setdefault("rank", None)


def _finish(row: dict) -> dict:
    row["closure_rate"] = rate(row["closed"], row["total"])
    row["substantiation_rate"] = rate(row["found"], row["closed"])
    row["on_time_rate"] = rate(row["on_time"], row["closed"])
    return row


def unit_period_stats(*, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> list[dict]:
    """One row per member unit that handles leads (the office itself and inactive units left out),
    in the units' own order, each with "rank" (None for a unit that received nothing)."""
    now = now or timezone.now()
    red_before, _yellow = light_bounds(now)
    own = Q(status__in=ACTIVE_ASSIGNMENT_STATUSES)
    qs = Assignment.objects.filter(own, assigned_at__lt=end, lead__restricted=False)
    closed = Q(status=AssignmentStatus.SUBMITTED, lead__status=LeadStatus.CLOSED, lead__closed_at__lt=end)
    rows = (
        qs.order_by()
        .values("unit_id")
        .annotate(
            week=Count("id", filter=Q(assigned_at__gte=start)),
            total=Count("id"),
            closed=Count("id", filter=closed),
            found=Count("id", filter=closed & Q(result__in=FOUND)),
            on_time=Count("id", filter=closed & Q(submitted_at__lte=F("deadline"))),
            red=Count(
                "id",
                filter=Q(status__in=OPEN_ASSIGNMENT_STATUSES, deadline__gte=now, deadline__lt=red_before),
            ),
            overdue=Count("id", filter=Q(status__in=OPEN_ASSIGNMENT_STATUSES, deadline__lt=now)),
        )
    )
    figures = {r.pop("unit_id"): r for r in rows}
    empty = {"week": 0, "total": 0, "closed": 0, "found": 0, "on_time": 0, "red": 0, "overdue": 0}
    out = []
    for unit in (
        Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE).order_by("sort_order", "code")
    ):
        row = {"unit": unit.code, "name": unit.short_name or unit.name, **figures.get(unit.pk, empty)}
        out.append(_finish(row))
    _rank(out)
    return out


def region_period_stats(
    *, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> list[dict]:
    """One row per county-level district (leads placed in the city itself count as 市本级)."""
    now = now or timezone.now()
    red_before, _yellow = light_bounds(now)
    late = Assignment.objects.filter(
        lead=OuterRef("pk"), status=AssignmentStatus.SUBMITTED, submitted_at__gt=F("deadline")
    )
    closed = Q(status=LeadStatus.CLOSED, closed_at__lt=end)
    open_ = ~Q(status=LeadStatus.CLOSED)
    rows = (
        Lead.objects.filter(created_at__lt=end, restricted=False)
        .annotate(late=Exists(late))
        .order_by()
        .values("region_id")
        .annotate(
            week=Count("id", filter=Q(created_at__gte=start)),
            total=Count("id"),
            closed=Count("id", filter=closed),
            found=Count("id", filter=closed & Q(result__in=FOUND)),
            on_time=Count("id", filter=closed & Q(late=False)),
            red=Count("id", filter=open_ & Q(deadline__gte=now, deadline__lt=red_before)),
            overdue=Count("id", filter=open_ & Q(deadline__lt=now)),
        )
    )
    figures = {r.pop("region_id"): r for r in rows}
    empty = {"week": 0, "total": 0, "closed": 0, "found": 0, "on_time": 0, "red": 0, "overdue": 0}
    out = []
    for region in Region.objects.order_by("sort_order", "code"):
        name = region.name if region.level == Region.Level.COUNTY else f"{region.name}（市本级）"
        out.append(_finish({"region": region.code, "name": name, **figures.get(region.pk, empty)}))
    _rank(out)
    return out


def totals(rows: list[dict]) -> dict:
    """The sum of district rows (every lead sits in exactly one region) with its rates."""
    keys = ("week", "total", "closed", "found", "on_time", "red", "overdue")
    return _finish({k: sum(r[k] for r in rows) for k in keys})
