# ruff: noqa: S608 — SQL text here interpolates only table names from model meta and fixed fragments;
# every value goes as a query parameter.
"""Keeping the dashboard rollups equal to the source rows: full rebuild, incremental refresh, verification.

What is derived, and from where:

- `TipDaily`: tips per local day × channel × sector × region, from reports.Tip; `TipDailyChannel`: per
  day × channel only (what charts without a sector or region filter read).
- `LeadFact`: one narrow row per lead (dimensions, state, "found", stage times), from leads.Lead, its
  assignments and its first tip.
- `AssignmentFact`: one narrow row per assignment, from leads.Assignment and the lead's fact.

Incremental refresh (a beat task, every minute) finds what changed through the id watermarks of the
source tables and of their event tables (every change of a tip or lead writes an event row in the same
transaction, STYLE.md): the days of changed tips are recounted whole, changed leads and their
assignments are rewritten. It starts from a checkpoint at least ROLLUP_OVERLAP_SECONDS old, so a
transaction that committed after a later checkpoint was taken is read again rather than missed. A full
rebuild (nightly, and `manage.py dashboard_rollups --full`) catches anything written behind the
services' back; `rollup_verify` compares every row with a direct count.

Two runs never overlap: both take the same transaction-scoped advisory lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .conf import dashboard_setting
from .models import AssignmentFact, LeadFact, RollupState, TipDaily, TipDailyChannel

log = logging.getLogger(__name__)

STATE_NAME = "main"
LOCK_KEY = 7_302_117  # arbitrary, unique to the dashboard rollups
FOUND_RESULTS = ("substantiated", "partly")
CONCLUDED_STATUSES = ("verified", "closed")
MAX_CHECKPOINTS = 20


def _tables() -> dict[str, str]:
    from leads.models import Assignment, Lead, LeadEvent, LeadTip
    from reports.models import Tip, TipEvent

    return {
        "tip": Tip._meta.db_table,
        "tipevent": TipEvent._meta.db_table,
        "lead": Lead._meta.db_table,
        "leadevent": LeadEvent._meta.db_table,
        "assignment": Assignment._meta.db_table,
        "leadtip": LeadTip._meta.db_table,
        "tipdaily": TipDaily._meta.db_table,
        "tipchannel": TipDailyChannel._meta.db_table,
        "leadfact": LeadFact._meta.db_table,
        "assignfact": AssignmentFact._meta.db_table,
    }


# --- the derivations (one place; refresh and verify use the same text) ----------------------------
def _tip_daily_select(t: dict, where: str = "TRUE") -> str:
    return f"""
        SELECT (tp.received_at AT TIME ZONE %(tz)s)::date AS day, tp.channel, tp.sector_id, tp.region_id,
               count(*) AS count
          FROM {t["tip"]} tp
         WHERE {where}
         GROUP BY 1, 2, 3, 4"""


def _tip_channel_select(t: dict, where: str = "TRUE") -> str:
    return f"""
        SELECT (tp.received_at AT TIME ZONE %(tz)s)::date AS day, tp.channel, count(*) AS count
          FROM {t["tip"]} tp
         WHERE {where}
         GROUP BY 1, 2"""


LEAD_FACT_COLUMNS = (
    "lead_id, created_day, created_at, sector_id, region_id, channel, status, result, disposition, "
    "is_found, is_concluded, restricted, deadline, first_assigned_at, first_accepted_at, verified_at, closed_at, "
    "assign_days, accept_days, verify_days, close_days"
)


def _days(end: str, begin: str) -> str:
    """Days from begin to end as a float; NULL while the stage runs (or if the clock went backwards)."""
    return f"CASE WHEN {end} >= {begin} THEN date_part('epoch', {end} - {begin}) / 86400.0 END"


def _lead_fact_select(t: dict, where: str = "TRUE") -> str:
    return f"""
        SELECT l.id AS lead_id, (l.created_at AT TIME ZONE %(tz)s)::date AS created_day, l.created_at,
               l.sector_id, l.region_id, COALESCE(ch.channel, '') AS channel, l.status, l.result, l.disposition,
               (l.status = ANY(%(concluded)s) AND l.result = ANY(%(found)s)) AS is_found,
               (l.status = ANY(%(concluded)s) AND l.result <> '') AS is_concluded,
               l.restricted, l.deadline, asg.first_assigned_at, asg.first_accepted_at, l.verified_at, l.closed_at,
               {_days("asg.first_assigned_at", "l.created_at")} AS assign_days,
               {_days("asg.first_accepted_at", "asg.first_assigned_at")} AS accept_days,
               {_days("l.verified_at", "asg.first_accepted_at")} AS verify_days,
               {_days("l.closed_at", "l.verified_at")} AS close_days
          FROM {t["lead"]} l
          LEFT JOIN LATERAL (
                SELECT tp.channel FROM {t["leadtip"]} lt JOIN {t["tip"]} tp ON tp.id = lt.tip_id
                 WHERE lt.lead_id = l.id ORDER BY tp.received_at, tp.id LIMIT 1) ch ON TRUE
          LEFT JOIN LATERAL (
                SELECT min(a.assigned_at) AS first_assigned_at, min(a.accepted_at) AS first_accepted_at
                  FROM {t["assignment"]} a WHERE a.lead_id = l.id) asg ON TRUE
         WHERE {where}"""


ASSIGNMENT_FACT_COLUMNS = (
    "assignment_id, lead_id, unit_id, sector_id, region_id, channel, restricted, assigned_day, assigned_at, "
    "deadline, status, accepted_at, submitted_at, result, returned_count, escalation_level"
)


def _assignment_fact_select(t: dict, where: str = "TRUE", leads: str | None = None) -> str:
    # `leads` replaces the lead facts by another source of the same columns (verification derives
    # from the lead rows themselves, not from facts that might have drifted).
    leads = leads or t["leadfact"]
    return f"""
        SELECT a.id AS assignment_id, a.lead_id, a.unit_id, f.sector_id, f.region_id, f.channel, f.restricted,
               (a.assigned_at AT TIME ZONE %(tz)s)::date AS assigned_day, a.assigned_at, a.deadline, a.status,
               a.accepted_at, a.submitted_at, a.result, a.returned_count, a.escalation_level
          FROM {t["assignment"]} a JOIN {leads} f ON f.lead_id = a.lead_id
         WHERE {where}"""


def _params(**extra) -> dict:
    return {
        "tz": settings.TIME_ZONE,
        "found": list(FOUND_RESULTS),
        "concluded": list(CONCLUDED_STATUSES),
        **extra,
    }


def _marks(cur, t: dict) -> dict[str, int]:
    """The highest id of every watched table, read before the changes are."""
    names = ("tip", "tipevent", "lead", "leadevent", "assignment", "leadtip")
    cur.execute(" UNION ALL ".join(f"SELECT '{n}', COALESCE(max(id), 0) FROM {t[n]}" for n in names))
    return {name: int(value) for name, value in cur.fetchall()}


@dataclass
class RefreshResult:
    mode: str
    skipped: bool = False
    tip_days: int = 0
    leads: int = 0
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "skipped": self.skipped,
            "tip_days": self.tip_days,
            "leads": self.leads,
            "seconds": round(self.seconds, 3),
        }


def _save_state(*, marks: dict, now: dt.datetime, full: bool, started: float, counts: dict) -> None:
    state, _ = RollupState.objects.select_for_update().get_or_create(name=STATE_NAME)
    checkpoints = [] if full else list(state.checkpoints)
    checkpoints.append({"at": now.isoformat(), "marks": marks})
    state.checkpoints = checkpoints[-MAX_CHECKPOINTS:]
    state.refreshed_at = now
    if full:
        state.full_refreshed_at = now
    state.last_duration_ms = int((time.monotonic() - started) * 1000)
    state.last_counts = counts
    state.save()


@transaction.atomic
def rollup_refresh_full(*, now: dt.datetime | None = None) -> RefreshResult:
    """Rebuild every rollup from the source tables in one transaction (readers see the old rows until commit)."""
    started = time.monotonic()
    now = now or timezone.now()
    t = _tables()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        marks = _marks(cur, t)
        cur.execute(f"DELETE FROM {t['tipdaily']}")
        cur.execute(
            f"INSERT INTO {t['tipdaily']} (day, channel, sector_id, region_id, count) {_tip_daily_select(t)} "
            "ORDER BY 1",
            _params(),
        )
        tip_rows = cur.rowcount
        cur.execute(f"DELETE FROM {t['tipchannel']}")
        # Derived from the day × channel × sector × region rollup just written: a few thousand rows to add up.
        cur.execute(
            f"INSERT INTO {t['tipchannel']} (day, channel, count) "
            f"SELECT day, channel, sum(count) FROM {t['tipdaily']} GROUP BY 1, 2"
        )
        cur.execute(f"DELETE FROM {t['assignfact']}")
        cur.execute(f"DELETE FROM {t['leadfact']}")
        # Written in date order, so a period's rows sit on neighbouring pages.
        cur.execute(
            f"INSERT INTO {t['leadfact']} ({LEAD_FACT_COLUMNS}) {_lead_fact_select(t)} ORDER BY l.created_at",
            _params(),
        )
        leads = cur.rowcount
        cur.execute(
            f"INSERT INTO {t['assignfact']} ({ASSIGNMENT_FACT_COLUMNS}) {_assignment_fact_select(t)} "
            "ORDER BY a.assigned_at",
            _params(),
        )
        assignments = cur.rowcount
    counts = {"tip_daily_rows": tip_rows, "leads": leads, "assignments": assignments}
    _save_state(marks=marks, now=now, full=True, started=started, counts=counts)
    # Fresh statistics and visibility maps (index-only scans) right away: the tables were just rewritten.
    transaction.on_commit(_vacuum)
    return RefreshResult(mode="full", leads=leads, seconds=time.monotonic() - started, counts=counts)


ROLLUP_MODELS = (TipDaily, TipDailyChannel, LeadFact, AssignmentFact)


def _vacuum() -> None:
    if connection.in_atomic_block:  # VACUUM cannot run in a transaction; ANALYZE at least
        statement = "ANALYZE"
    else:
        statement = "VACUUM (ANALYZE)"
    with connection.cursor() as cur:
        for model in ROLLUP_MODELS:
            cur.execute(f"{statement} {model._meta.db_table}")


def _start_marks(state: RollupState, now: dt.datetime) -> dict | None:
    """The newest checkpoint at least the overlap old (or the oldest kept, if all are newer)."""
    if not state.checkpoints:
        return None
    horizon = now - dt.timedelta(seconds=dashboard_setting("ROLLUP_OVERLAP_SECONDS"))
    chosen = state.checkpoints[0]
    for checkpoint in state.checkpoints:
        if dt.datetime.fromisoformat(checkpoint["at"]) <= horizon:
            chosen = checkpoint
    return chosen["marks"]


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def _refresh_tip_days(cur, t: dict, days: list[dt.date]) -> None:
    for day in days:
        start, end = _day_bounds(day)
        cur.execute(f"DELETE FROM {t['tipdaily']} WHERE day = %(day)s", {"day": day})
        cur.execute(
            f"INSERT INTO {t['tipdaily']} (day, channel, sector_id, region_id, count) "
            + _tip_daily_select(t, "tp.received_at >= %(start)s AND tp.received_at < %(end)s"),
            _params(start=start, end=end),
        )
        cur.execute(f"DELETE FROM {t['tipchannel']} WHERE day = %(day)s", {"day": day})
        cur.execute(
            f"INSERT INTO {t['tipchannel']} (day, channel, count) "
            f"SELECT day, channel, sum(count) FROM {t['tipdaily']} WHERE day = %(day)s GROUP BY 1, 2",
            {"day": day},
        )


def _refresh_leads(cur, t: dict, lead_ids: list[int]) -> None:
    ids = {"ids": lead_ids}
    cur.execute(f"DELETE FROM {t['assignfact']} WHERE lead_id = ANY(%(ids)s)", ids)
    cur.execute(f"DELETE FROM {t['leadfact']} WHERE lead_id = ANY(%(ids)s)", ids)
    cur.execute(
        f"INSERT INTO {t['leadfact']} ({LEAD_FACT_COLUMNS}) {_lead_fact_select(t, 'l.id = ANY(%(ids)s)')}",
        _params(**ids),
    )
    cur.execute(
        f"INSERT INTO {t['assignfact']} ({ASSIGNMENT_FACT_COLUMNS}) "
        f"{_assignment_fact_select(t, 'a.lead_id = ANY(%(ids)s)')}",
        _params(**ids),
    )


def rollup_refresh_incremental(*, now: dt.datetime | None = None, batch: int = 5000) -> RefreshResult:
    """Bring the rollups up to date with what changed since the last runs; a full rebuild if there is no state.

    Returns at once (skipped) when another refresh holds the lock.
    """
    now = now or timezone.now()
    state = RollupState.objects.filter(name=STATE_NAME).first()
    if state is None or not state.checkpoints:
        return rollup_refresh_full(now=now)
    started = time.monotonic()
    t = _tables()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not cur.fetchone()[0]:
            return RefreshResult(mode="incremental", skipped=True)
        state = RollupState.objects.get(name=STATE_NAME)
        since = _start_marks(state, now)
        marks = _marks(cur, t)
        cur.execute(
            f"""
            SELECT DISTINCT (tp.received_at AT TIME ZONE %(tz)s)::date FROM {t["tip"]} tp
             WHERE tp.id > %(tip)s
            UNION
            SELECT DISTINCT (tp.received_at AT TIME ZONE %(tz)s)::date
              FROM {t["tipevent"]} e JOIN {t["tip"]} tp ON tp.id = e.tip_id WHERE e.id > %(tipevent)s
            """,
            _params(tip=since.get("tip", 0), tipevent=since.get("tipevent", 0)),
        )
        days = sorted(row[0] for row in cur.fetchall())
        _refresh_tip_days(cur, t, days)
        cur.execute(
            f"""
            SELECT id FROM {t["lead"]} WHERE id > %(lead)s
            UNION SELECT lead_id FROM {t["leadevent"]} WHERE id > %(leadevent)s
            UNION SELECT lead_id FROM {t["assignment"]} WHERE id > %(assignment)s
            UNION SELECT lead_id FROM {t["leadtip"]} WHERE id > %(leadtip)s
            """,
            {k: since.get(k, 0) for k in ("lead", "leadevent", "assignment", "leadtip")},
        )
        lead_ids = sorted(row[0] for row in cur.fetchall())
        for i in range(0, len(lead_ids), batch):
            _refresh_leads(cur, t, lead_ids[i : i + batch])
        counts = {"tip_days": len(days), "leads": len(lead_ids)}
        _save_state(marks=marks, now=now, full=False, started=started, counts=counts)
    return RefreshResult(
        mode="incremental",
        tip_days=len(days),
        leads=len(lead_ids),
        seconds=time.monotonic() - started,
        counts=counts,
    )


def rollup_state() -> RollupState | None:
    return RollupState.objects.filter(name=STATE_NAME).first()


# --- verification -----------------------------------------------------------------------------------
def rollup_verify() -> dict[str, int]:
    """Rows that differ between each rollup and a fresh derivation from the source tables (all 0 = no drift)."""
    t = _tables()
    checks = {
        "tip_daily": (
            _tip_daily_select(t),
            f"SELECT day, channel, sector_id, region_id, count FROM {t['tipdaily']}",
        ),
        "tip_daily_channel": (_tip_channel_select(t), f"SELECT day, channel, count FROM {t['tipchannel']}"),
        "lead_facts": (_lead_fact_select(t), f"SELECT {LEAD_FACT_COLUMNS} FROM {t['leadfact']}"),
        "assignment_facts": (
            _assignment_fact_select(t, leads=f"({_lead_fact_select(t)})"),
            f"SELECT {ASSIGNMENT_FACT_COLUMNS} FROM {t['assignfact']}",
        ),
    }
    out = {}
    with connection.cursor() as cur:
        for name, (source, rollup) in checks.items():
            cur.execute(f"SELECT count(*) FROM (({source}) EXCEPT ALL ({rollup})) d", _params())
            missing = cur.fetchone()[0]
            cur.execute(f"SELECT count(*) FROM (({rollup}) EXCEPT ALL ({source})) d", _params())
            out[name] = missing + cur.fetchone()[0]
    return out
