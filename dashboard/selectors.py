# ruff: noqa: S608 — SQL text here interpolates only table names from model meta and fixed fragments;
# every value goes as a query parameter.
"""Reads for the dashboards. Every number comes from the rollups (dashboard.rollups) with one or two
indexed queries per chart, so a page costs the same at a thousand tips as at a million.

Definitions (docs/dashboard-performance.md repeats them for the reader of the numbers):

- Period figures count tips by the day they were received and leads by the day they were registered
  (受理登记): "found in the period" means registered in the period and found (查实 or 部分属实) by now.
- Found (查实) = verified or closed with result substantiated or partly substantiated. A lead closed as
  unsubstantiated (查否) or "cannot verify" is concluded, never found.
- Open, overdue and not-signed-for counts are the state right now (截至目前): the period does not
  apply to them; region, sector and channel do.
- A lead's channel is the channel of its earliest tip; leads with no tip (found by a unit) have none
  and drop out when a channel is chosen.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign import workdays
from campaign.models import PublicityActivity, Region, Sector, Unit
from reports.models import Channel

from .conf import dashboard_setting
from .filters import DashboardFilters, month_bounds, week_bounds
from .models import AssignmentFact, LeadFact, TipDaily, TipDailyChannel
from .rollups import FOUND_RESULTS, rollup_state

OPEN_ASSIGNMENT = ("assigned", "accepted")
STAGES = [
    ("assign", gettext_lazy("登记→分办"), "assign_days"),
    ("accept", gettext_lazy("分办→签收"), "accept_days"),
    ("verify", gettext_lazy("签收→核查结论"), "verify_days"),
    ("close", gettext_lazy("结论→办结"), "close_days"),
]
ONLINE_CHANNELS = (Channel.ONLINE, Channel.PLATFORM_12337)
TRADITIONAL_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.MAILBOX, Channel.VISIT)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _where(filters: DashboardFilters, *, restricted: bool = True, channel: bool = True) -> tuple[str, dict]:
    """SQL conditions for region, sector, channel (and restricted leads) on a rollup table."""
    parts, params = [], {}
    if filters.region_id:
        parts.append("region_id = %(region)s")
        params["region"] = filters.region_id
    if filters.sector_id:
        parts.append("sector_id = %(sector)s")
        params["sector"] = filters.sector_id
    if channel and filters.channel:
        parts.append("channel = %(channel)s")
        params["channel"] = filters.channel
    if restricted and not filters.include_restricted:
        parts.append("NOT restricted")
    return "".join(f" AND {p}" for p in parts), params


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _change(current: int, previous: int) -> float | None:
    """Relative change in percent; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) * 100.0 / previous, 1)


def _share(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


def default_filters(params: dict | None = None, *, user=None) -> DashboardFilters:
    """Filters as the dashboard opens (the current phase, else this month), or from query parameters.

    For callers outside a request, e.g. the benchmark harness: `overview(default_filters())`.
    Raises ValueError with the form's errors for invalid parameters.
    """
    from .filters import filters_from_params

    filters, form = filters_from_params(params or {}, user=user)
    if filters is None:
        raise ValueError(form.errors.as_json())
    return filters


def not_accepted_threshold(now: dt.datetime) -> dt.datetime:
    """Assigned at or before this moment and still not signed for = "triaged, not verified" (排而不查)."""
    return workdays.subtract_workdays(now, dashboard_setting("NOT_ACCEPTED_WORKDAYS"))


def as_of() -> dict:
    state = rollup_state()
    refreshed = state.refreshed_at if state else None
    stale = refreshed is None or (timezone.now() - refreshed).total_seconds() > dashboard_setting(
        "ROLLUP_STALE_SECONDS"
    )
    return {"refreshed_at": refreshed, "stale": stale}


# --- overview -----------------------------------------------------------------------------------------
def _tip_table(filters: DashboardFilters) -> str:
    """The smallest tip rollup that can answer: day × channel unless a sector or region is chosen."""
    if filters.region_id or filters.sector_id:
        return TipDaily._meta.db_table
    return TipDailyChannel._meta.db_table


def _tip_counts(filters: DashboardFilters, ranges: dict[str, tuple[dt.date, dt.date]]) -> dict[str, int]:
    where, params = _where(filters, restricted=False)
    table = _tip_table(filters)
    parts = []
    for i, (key, (start, end)) in enumerate(ranges.items()):
        params[f"s{i}"], params[f"e{i}"] = start, end
        parts.append(
            f"SELECT '{key}', COALESCE(sum(count), 0) FROM {table} WHERE day BETWEEN %(s{i})s AND %(e{i})s{where}"
        )
    return {key: int(value) for key, value in _fetch(" UNION ALL ".join(parts), params)}


def _tip_block(counts: dict, key: str, start: dt.date, end: dt.date) -> dict:
    current, previous = counts[key], counts[f"{key}_prev"]
    return {
        "count": current,
        "previous": previous,
        "change": _change(current, previous),
        "from": start,
        "to": end,
    }


def overview(filters: DashboardFilters, *, now: dt.datetime | None = None) -> dict:
    """Every number of the overview page (and of the summary API) for these filters."""
    now = _now(now)
    today = filters.reference_day
    week, month = filters.with_range(*week_bounds(today)), filters.with_range(*month_bounds(today))
    week_prev, month_prev, period_prev = week.previous(), month.previous(), filters.previous()
    # The previous week/month of a running week/month: the same number of days, so a Monday is
    # compared with a Monday, not with a whole week.
    ranges = {
        "week": (week.date_from, week.date_to),
        "week_prev": (week_prev.date_from, week_prev.date_to),
        "month": (month.date_from, month.date_to),
        "month_prev": (month_prev.date_from, month_prev.date_to),
        "period": (filters.date_from, filters.date_to),
        "period_prev": (period_prev.date_from, period_prev.date_to),
    }
    tips = _tip_counts(filters, ranges)

    where, params = _where(filters)
    params.update(start=filters.date_from, end=filters.date_to, now=now)
    stage_sql = ", ".join(
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}), count({column})"
        for _key, _label, column in STAGES
    )
    leadfact = LeadFact._meta.db_table
    (row,) = _fetch(
        f"""
        SELECT count(*), count(*) FILTER (WHERE is_concluded), count(*) FILTER (WHERE is_found),
               count(*) FILTER (WHERE status = 'closed' AND result = 'unsubstantiated'),
               count(*) FILTER (WHERE status = 'closed'),
               count(*) FILTER (WHERE is_concluded AND result = 'substantiated'),
               count(*) FILTER (WHERE is_concluded AND result = 'partly'),
               count(*) FILTER (WHERE is_concluded AND result = 'unsubstantiated'),
               count(*) FILTER (WHERE is_concluded AND result = 'cannot_verify'), {stage_sql}
          FROM {leadfact} WHERE created_day BETWEEN %(start)s AND %(end)s{where}
        """,
        params,
    )
    registered, concluded, found, closed_unsubstantiated, closed = (int(v) for v in row[:5])
    results = dict(
        zip(
            ("substantiated", "partly", "unsubstantiated", "cannot_verify"),
            (int(v) for v in row[5:9]),
            strict=True,
        )
    )
    stages = []
    for i, (key, label, _column) in enumerate(STAGES):
        median, n = row[9 + 2 * i], row[10 + 2 * i]
        stages.append(
            {
                "key": key,
                "label": str(label),
                "median_days": round(median, 1) if median is not None else None,
                "n": n,
            }
        )

    (open_row,) = _fetch(
        f"""
        SELECT count(*), count(*) FILTER (WHERE deadline < %(now)s)
          FROM {leadfact} WHERE status <> 'closed'{where}
        """,
        params,
    )
    params["threshold"] = not_accepted_threshold(now)
    (not_accepted,) = _fetch(
        f"""
        SELECT count(DISTINCT lead_id) FROM {AssignmentFact._meta.db_table}
         WHERE status = 'assigned' AND assigned_at <= %(threshold)s{where}
        """,
        params,
    )[0]
    return {
        "as_of": as_of(),
        "period": {"from": filters.date_from, "to": filters.date_to, "label": filters.label},
        "tips": {
            "week": _tip_block(tips, "week", week.date_from, week.date_to),
            "month": _tip_block(tips, "month", month.date_from, month.date_to),
            "period": _tip_block(tips, "period", filters.date_from, filters.date_to),
        },
        "leads": {
            "registered": registered,
            "concluded": concluded,
            "found": found,
            "found_share": _share(found, concluded),
            "closed": closed,
            "closed_unsubstantiated": closed_unsubstantiated,
            "open": int(open_row[0]),
            "overdue": int(open_row[1]),
            "not_accepted": int(not_accepted),
            "results": results,
            "pending": registered - concluded,
        },
        "stages": stages,
        "rewards": rewards_paid(filters),
        "accountability": accountability_open(filters),
    }


def rewards_paid(filters: DashboardFilters) -> dict:
    """Rewards paid (by payment date) in the period, for tips matching the filters."""
    from reports.models import Reward

    qs = Reward.objects.filter(status=Reward.Status.PAID, paid_on__range=(filters.date_from, filters.date_to))
    if filters.region_id:
        qs = qs.filter(tip__region_id=filters.region_id)
    if filters.sector_id:
        qs = qs.filter(tip__sector_id=filters.sector_id)
    if filters.channel:
        qs = qs.filter(tip__channel=filters.channel)
    agg = qs.aggregate(n=Count("id"), amount=Sum("amount"))
    return {"count": agg["n"], "amount": agg["amount"] or Decimal("0.00")}


def accountability_open(filters: DashboardFilters) -> dict | None:
    """Open accountability actions (issued, rectifying, overdue) and draft proposals awaiting the office.

    Actions target units, not sectors or regions: these are city-wide figures whatever the filters.
    None when the accountability app has no actions yet.
    """
    try:
        from accountability.models import OPEN_ACTION_STATUSES, Action, ActionStatus
    except ImportError:
        return None
    counts = dict(
        Action.objects.filter(status__in=[*OPEN_ACTION_STATUSES, ActionStatus.OVERDUE, ActionStatus.DRAFT])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "open": sum(counts.get(s, 0) for s in set(OPEN_ACTION_STATUSES) | {ActionStatus.OVERDUE}),
        "overdue": counts.get(ActionStatus.OVERDUE, 0),
        "drafts": counts.get(ActionStatus.DRAFT, 0),
    }


# --- channels -----------------------------------------------------------------------------------------
def bucket_for(filters: DashboardFilters) -> str:
    days = (filters.date_to - filters.date_from).days + 1
    if days <= 31:
        return "day"
    if days <= 190:
        return "week"
    return "month"


def channels(filters: DashboardFilters) -> dict:
    """Tips per channel per day/week/month of the period, with the online share per bucket."""
    bucket = bucket_for(filters)
    where, params = _where(filters, restricted=False)
    params.update(start=filters.date_from, end=filters.date_to, bucket=bucket)
    rows = _fetch(
        f"""
        SELECT date_trunc(%(bucket)s, day)::date AS b, channel, sum(count)
          FROM {_tip_table(filters)} WHERE day BETWEEN %(start)s AND %(end)s{where}
         GROUP BY 1, 2 ORDER BY 1
        """,
        params,
    )
    buckets = _bucket_labels(filters, bucket)
    keys = [b for b, _label in buckets]
    present = {channel for _b, channel, _n in rows}
    series_codes = [c for c in Channel.values if c in present or not filters.channel or c == filters.channel]
    if filters.channel:
        series_codes = [filters.channel]
    grid = {code: dict.fromkeys(keys, 0) for code in series_codes}
    for b, channel, n in rows:
        if channel in grid and b in grid[channel]:
            grid[channel][b] = int(n)
    totals = [sum(grid[c][b] for c in series_codes) for b in keys]
    online = [sum(grid[c][b] for c in series_codes if c in ONLINE_CHANNELS) for b in keys]
    labels = dict(Channel.choices)
    series = [
        {
            "code": c,
            "label": str(labels[c]),
            "data": [grid[c][b] for b in keys],
            "total": sum(grid[c].values()),
        }
        for c in series_codes
    ]
    grand = sum(totals)
    shares = [_share(o, t) for o, t in zip(online, totals, strict=True)]
    table = [
        {
            "label": label,
            "values": [s["data"][i] for s in series],
            "total": totals[i],
            "online_share": shares[i],
        }
        for i, (_b, label) in enumerate(buckets)
    ]
    return {
        "bucket": bucket,
        "buckets": [label for _b, label in buckets],
        "bucket_starts": keys,
        "series": series,
        "totals": totals,
        "online_share": shares,
        "table": table,
        "total": grand,
        "online_total_share": _share(sum(online), grand),
        "traditional_total_share": _share(
            sum(s["total"] for s in series if s["code"] in TRADITIONAL_CHANNELS), grand
        ),
    }


def _bucket_labels(filters: DashboardFilters, bucket: str) -> list[tuple[dt.date, str]]:
    out = []
    if bucket == "day":
        day = filters.date_from
        while day <= filters.date_to:
            out.append((day, f"{day:%m-%d}"))
            day += dt.timedelta(days=1)
    elif bucket == "week":
        day = week_bounds(filters.date_from)[0]
        while day <= filters.date_to:
            out.append((day, f"{day:%m-%d}" + _("周")))
            day += dt.timedelta(days=7)
    else:
        day = filters.date_from.replace(day=1)
        while day <= filters.date_to:
            out.append((day, f"{day:%Y-%m}"))
            day = month_bounds(day)[1] + dt.timedelta(days=1)
    return out


# --- sector × region matrix and blind spots ------------------------------------------------------------
def _regions(filters: DashboardFilters) -> list[Region]:
    qs = Region.objects.order_by("sort_order", "code")
    if filters.region_id:
        qs = qs.filter(pk=filters.region_id)
    return list(qs)


def _sectors(filters: DashboardFilters) -> list[Sector]:
    qs = Sector.objects.select_related("lead_unit").order_by("sort_order", "code")
    if filters.sector_id:
        qs = qs.filter(pk=filters.sector_id)
    return list(qs)


def expected_units() -> list[Unit]:
    """Member units expected to handle cases (every active unit but the office itself)."""
    return list(
        Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE).order_by("sort_order", "code")
    )


def matrix(filters: DashboardFilters) -> dict:
    """Leads found per sector × region in the period; zero cells are blind spots (盲区).

    A cell with no lead at all and a cell with leads none of which was found are both blind spots;
    `empty` tells them apart. Sectors with nothing found anywhere, and units that handled no lead or
    found nothing, are listed as well.
    """
    where, params = _where(filters)
    params.update(start=filters.date_from, end=filters.date_to)
    rows = _fetch(
        f"""
        SELECT sector_id, region_id, count(*), count(*) FILTER (WHERE is_found)
          FROM {LeadFact._meta.db_table} WHERE created_day BETWEEN %(start)s AND %(end)s{where}
         GROUP BY 1, 2
        """,
        params,
    )
    cells = {(s, r): (int(n), int(f)) for s, r, n, f in rows}
    present = {r for _s, r in cells}
    # The city itself (市本级) is a column only when leads are registered there; counties always are.
    regions = [r for r in _regions(filters) if r.level != Region.Level.CITY or r.pk in present]
    sectors = _sectors(filters)
    out_rows = []
    for sector in sectors:
        row_cells = []
        for region in regions:
            registered, found = cells.get((sector.pk, region.pk), (0, 0))
            row_cells.append(
                {
                    "region": region.code,
                    "registered": registered,
                    "found": found,
                    "blind": found == 0,
                    "empty": registered == 0,
                }
            )
        out_rows.append(
            {
                "sector": sector.code,
                "sector_id": sector.pk,
                "sector_name": sector.name,
                "lead_unit": sector.lead_unit.short_name or sector.lead_unit.name,
                "lead_unit_id": sector.lead_unit_id,
                "cells": row_cells,
                "registered": sum(c["registered"] for c in row_cells),
                "found": sum(c["found"] for c in row_cells),
            }
        )
    top = max((c["found"] for r in out_rows for c in r["cells"]), default=0)
    for r in out_rows:
        for c in r["cells"]:
            # Five shades for the table heatmap (0 = blind spot, shown apart).
            c["level"] = 0 if not c["found"] else min(5, 1 + (4 * c["found"]) // max(top, 1))
    column_totals = [
        {
            "region": region.code,
            "registered": sum(r["cells"][i]["registered"] for r in out_rows),
            "found": sum(r["cells"][i]["found"] for r in out_rows),
        }
        for i, region in enumerate(regions)
    ]
    region_names = {r.code: (r.name if r.level != Region.Level.CITY else _("市本级")) for r in regions}
    blind_cells = [
        {
            "sector": r["sector"],
            "sector_name": r["sector_name"],
            "region": c["region"],
            "region_name": region_names[c["region"]],
            "empty": c["empty"],
            "registered": c["registered"],
        }
        for r in out_rows
        for c in r["cells"]
        if c["blind"]
    ]
    return {
        "period": {"from": filters.date_from, "to": filters.date_to, "label": filters.label},
        "regions": [{"code": r.code, "name": region_names[r.code], "id": r.pk} for r in regions],
        "rows": out_rows,
        "column_totals": column_totals,
        "registered": sum(r["registered"] for r in out_rows),
        "found": sum(r["found"] for r in out_rows),
        "blind_cells": blind_cells,
        "blind_count": len(blind_cells),
        "cell_count": len(regions) * len(sectors),
        "sectors_without_case": [
            {"code": r["sector"], "name": r["sector_name"], "registered": r["registered"]}
            for r in out_rows
            if r["found"] == 0
        ],
        "units_without_case": units_without_case(filters),
    }


def units_without_case(filters: DashboardFilters) -> list[dict]:
    """Expected units that handled no lead in the period, or handled some and found nothing."""
    where, params = _where(filters)
    params.update(start=filters.date_from, end=filters.date_to, found=list(FOUND_RESULTS))
    rows = _fetch(
        f"""
        SELECT unit_id, count(*),
               count(*) FILTER (WHERE status = 'submitted' AND result = ANY(%(found)s))
          FROM {AssignmentFact._meta.db_table}
         WHERE assigned_day BETWEEN %(start)s AND %(end)s AND status <> 'withdrawn'{where}
         GROUP BY 1
        """,
        params,
    )
    handled = {unit_id: (int(n), int(f)) for unit_id, n, f in rows}
    out = []
    for unit in expected_units():
        n, found = handled.get(unit.pk, (0, 0))
        if found == 0:
            out.append(
                {
                    "code": unit.code,
                    "name": unit.short_name or unit.name,
                    "assignments": n,
                    "none_handled": n == 0,
                }
            )
    return out


# --- units ---------------------------------------------------------------------------------------------
def units(filters: DashboardFilters, *, now: dt.datetime | None = None) -> dict:
    """The unit ranking: on-time verification, overdue, returned for re-verification, publicity.

    An assignment is counted in the period it was assigned. On-time rate = results submitted by the
    deadline ÷ assignments due (submitted, or open past the deadline). Returned share = assignments
    ever returned for re-verification ÷ assignments ever submitted. Overdue and not signed for are the
    state now. Re-assigned (withdrawn) assignments are left out; send-backs are counted apart.
    """
    now = _now(now)
    where, params = _where(filters)
    params.update(
        start=filters.date_from,
        end=filters.date_to,
        now=now,
        threshold=not_accepted_threshold(now),
        found=list(FOUND_RESULTS),
        open=list(OPEN_ASSIGNMENT),
    )
    rows = _fetch(
        f"""
        SELECT unit_id,
               count(*) FILTER (WHERE status <> 'sent_back'),
               count(*) FILTER (WHERE submitted_at IS NOT NULL),
               count(*) FILTER (WHERE submitted_at IS NOT NULL AND submitted_at <= deadline),
               count(*) FILTER (WHERE status = ANY(%(open)s) AND deadline < %(now)s),
               count(*) FILTER (WHERE status = ANY(%(open)s)),
               count(*) FILTER (WHERE status = 'assigned' AND assigned_at <= %(threshold)s),
               count(*) FILTER (WHERE returned_count > 0 AND submitted_at IS NOT NULL),
               count(*) FILTER (WHERE status = 'submitted' AND result = ANY(%(found)s)),
               count(*) FILTER (WHERE status = 'sent_back')
          FROM {AssignmentFact._meta.db_table}
         WHERE assigned_day BETWEEN %(start)s AND %(end)s AND status <> 'withdrawn'{where}
         GROUP BY 1
        """,
        params,
    )
    stats = {r[0]: [int(v) for v in r[1:]] for r in rows}
    publicity = {
        row["unit_id"]: row
        for row in PublicityActivity.objects.filter(held_on__range=(filters.date_from, filters.date_to))
        .values("unit_id")
        .annotate(n=Count("id"), reach=Sum("reach"))
    }
    out = []
    for unit in expected_units():
        assigned, submitted, on_time, overdue, open_now, not_accepted, returned, found, sent_back = stats.get(
            unit.pk, [0] * 9
        )
        due = submitted + overdue
        pub = publicity.get(unit.pk, {})
        out.append(
            {
                "unit": unit.code,
                "unit_id": unit.pk,
                "name": unit.short_name or unit.name,
                "assignments": assigned,
                "submitted": submitted,
                "on_time": on_time,
                "due": due,
                "on_time_rate": _share(on_time, due),
                "open": open_now,
                "overdue": overdue,
                "not_accepted": not_accepted,
                "returned": returned,
                "returned_share": _share(returned, submitted),
                "found": found,
                "sent_back": sent_back,
                "publicity": pub.get("n", 0),
                "publicity_reach": pub.get("reach") or 0,
            }
        )
    # Best first: on-time rate, then fewer overdue, then more handled; units with nothing due last.
    out.sort(
        key=lambda u: (u["on_time_rate"] is None, -(u["on_time_rate"] or 0), u["overdue"], -u["assignments"])
    )
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank if row["on_time_rate"] is not None else None
    return {
        "period": {"from": filters.date_from, "to": filters.date_to, "label": filters.label},
        "units": out,
    }


def unit_scorecard(*, unit_id: int, filters: DashboardFilters, now: dt.datetime | None = None) -> dict | None:
    """One unit's row of the ranking (the home panel of liaisons and unit heads)."""
    for row in units(filters, now=now)["units"]:
        if row["unit_id"] == unit_id:
            return row
    return None


# --- drill-down to a unit's leads -----------------------------------------------------------------------
DRILL_STATES = {
    "all": gettext_lazy("全部"),
    "open": gettext_lazy("在办"),
    "overdue": gettext_lazy("超期"),
    "not_accepted": gettext_lazy("超时未签收"),
    "found": gettext_lazy("查实"),
}


def visible_leads(user):
    """The leads `user` may see, by the leads app's one scoping selector (none if it is not there yet)."""
    from leads.models import Lead

    try:
        from leads.selectors import lead_list_visible_to
    except ImportError:
        return Lead.objects.none()
    return lead_list_visible_to(user)


def unit_leads(
    *, user, unit: Unit, filters: DashboardFilters, state: str = "all", now: dt.datetime | None = None
):
    """The unit's leads behind its ranking row, as far as `user` may see them (a queryset, newest first)."""
    now = _now(now)
    facts = AssignmentFact.objects.filter(
        unit_id=unit.pk, assigned_day__range=(filters.date_from, filters.date_to)
    ).exclude(status="withdrawn")
    if filters.region_id:
        facts = facts.filter(region_id=filters.region_id)
    if filters.sector_id:
        facts = facts.filter(sector_id=filters.sector_id)
    if filters.channel:
        facts = facts.filter(channel=filters.channel)
    if state == "open":
        facts = facts.filter(status__in=OPEN_ASSIGNMENT)
    elif state == "overdue":
        facts = facts.filter(status__in=OPEN_ASSIGNMENT, deadline__lt=now)
    elif state == "not_accepted":
        facts = facts.filter(status="assigned", assigned_at__lte=not_accepted_threshold(now))
    elif state == "found":
        facts = facts.filter(status="submitted", result__in=FOUND_RESULTS)
    return (
        visible_leads(user)
        .filter(pk__in=facts.values("lead_id"))
        .select_related("sector", "region")
        .order_by("-created_at", "-id")
    )


# --- overdue list (reports) ------------------------------------------------------------------------------
def overdue_assignments(*, user, filters: DashboardFilters, now: dt.datetime | None = None):
    """Open assignments past their deadline now, for leads `user` may see, most overdue first."""
    from leads.models import Assignment

    now = _now(now)
    qs = Assignment.objects.filter(
        status__in=OPEN_ASSIGNMENT, deadline__lt=now, lead__in=visible_leads(user).values("pk")
    )
    if filters.region_id:
        qs = qs.filter(lead__region_id=filters.region_id)
    if filters.sector_id:
        qs = qs.filter(lead__sector_id=filters.sector_id)
    return qs.order_by("deadline", "id")


def lead_counts_by(
    dimension: str, filters: DashboardFilters, *, now: dt.datetime | None = None
) -> dict[int, dict]:
    """Per sector or region: registered, concluded, found, closed in the period; open and overdue now."""
    assert dimension in ("sector_id", "region_id")
    now = _now(now)
    where, params = _where(filters)
    params.update(start=filters.date_from, end=filters.date_to, now=now)
    rows = _fetch(
        f"""
        SELECT {dimension},
               count(*) FILTER (WHERE created_day BETWEEN %(start)s AND %(end)s),
               count(*) FILTER (WHERE created_day BETWEEN %(start)s AND %(end)s AND is_concluded),
               count(*) FILTER (WHERE created_day BETWEEN %(start)s AND %(end)s AND is_found),
               count(*) FILTER (WHERE created_day BETWEEN %(start)s AND %(end)s AND status = 'closed'),
               count(*) FILTER (WHERE status <> 'closed'),
               count(*) FILTER (WHERE status <> 'closed' AND deadline < %(now)s)
          FROM {LeadFact._meta.db_table}
         WHERE (created_day BETWEEN %(start)s AND %(end)s OR status <> 'closed'){where}
         GROUP BY 1
        """,
        params,
    )
    keys = ("registered", "concluded", "found", "closed", "open", "overdue")
    return {r[0]: dict(zip(keys, (int(v) for v in r[1:]), strict=True)) for r in rows}


def tip_counts_by(dimension: str, filters: DashboardFilters) -> dict[int | str, int]:
    assert dimension in ("sector_id", "region_id", "channel")
    table = _tip_table(filters) if dimension == "channel" else TipDaily._meta.db_table
    where, params = _where(filters, restricted=False)
    params.update(start=filters.date_from, end=filters.date_to)
    rows = _fetch(
        f"""
        SELECT {dimension}, sum(count) FROM {table}
         WHERE day BETWEEN %(start)s AND %(end)s{where} GROUP BY 1
        """,
        params,
    )
    return {k: int(v) for k, v in rows}
