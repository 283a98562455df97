"""The escalation sweep (`escalate_overdue`): reminders, overdue notices, supervision and accountability.

Levels (leads/escalation_levels.py), counted on the working-day calendar (campaign.workdays):

    REMINDER        deadline within REMINDER_WORKDAYS working days   → the unit's liaisons
    OVERDUE         deadline passed                                  → liaisons, unit head(s), office
    SUPERVISION     SUPERVISION_WORKDAYS working days overdue        → unit head(s), office (督办 draft:
                                                                       accountability's own sweep)
    ACCOUNTABILITY  ACCOUNTABILITY_WORKDAYS working days overdue     → unit head(s), office (约谈 proposal:
                                                                       likewise)

"Assigned but not signed for" (排而不查) is the practice sweep's sign-for ladder (leads/practice_sweep.py,
the configurable sign-for time of issue 11), not a level here: one rule, one notice per person.

How each level fires exactly once, whatever the number of beats and workers: per level and batch, one
transaction locks the open assignments in the level's deadline window whose stored level is below it
(FOR UPDATE SKIP LOCKED, driven by the per-level indexes assignment_escalation_<n>), locks their leads FOR KEY SHARE
SKIP LOCKED (a lead a user is changing is left for the next run rather than waited for), moves them up
with one UPDATE … RETURNING that also writes their timeline events, and writes the notifications; mail
goes through the outbox after commit. Windows are disjoint and the highest level runs first, so an
assignment that jumps several levels lands on the highest with that level's notices only. Notices carry
dedupe keys `esc:<assignment>:<level>:<deadline>:u<user>` as a second guard. An extension or a return
for re-verification resets the stored level (leads.services), so the ladder is climbed again against
the new deadline; a deadline moved by any other path (signing for when the clock starts at signing, an
admin's edit) is caught by the sweep itself: the level remembers its deadline (escalated_deadline), and
a level reached against a deadline that has since moved is reset first (index assignment_escalation_stale).

Cost at scale: a batch is four statements (pick, lock leads, move + log, notices) whatever its size,
the rows come back with their dates already formatted by the database, and `leads_assignment` carries
only the indexes the queries need (every index gets an entry for every row the sweep moves).

Notices: up to UNIT_NOTICE_MAX assignments reaching a level for one user in one batch get a notice
each; more get one notice listing them (a unit with a hundred leads falling due at once is told once).
Each recipient gets one email per batch listing theirs; the office gets one summary per level and batch.

Thresholds: settings.LEADS["ESCALATION"] overrides DEFAULTS below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign import workdays
from campaign.messaging import Outgoing, insert_new_rows, outbound_enqueue_many, scoped_key
from campaign.models import Notification, OutboundMessage, Unit, User
from campaign.notifications import notify, office_users
from campaign.roles import Role

from .escalation_levels import EscalationLevel
from .models import Assignment, AssignmentStatus, Lead, LeadEvent

DEFAULTS = {
    "REMINDER_WORKDAYS": 3,  # before the deadline
    "SUPERVISION_WORKDAYS": 7,  # overdue
    "ACCOUNTABILITY_WORKDAYS": 15,  # overdue
    "BATCH_SIZE": 5000,
    "MAX_BATCHES": 200,  # per level and run: a million assignments at the default batch size
    # More new assignments than this for one user in one batch: one notice listing them instead.
    "UNIT_NOTICE_MAX": 10,
    "EMAIL": True,
    "EMAIL_LIST_MAX": 20,  # lead numbers listed in one email or office summary
}


def escalation_setting(name: str):
    return {**DEFAULTS, **getattr(settings, "LEADS", {}).get("ESCALATION", {})}[name]


# --- working-day cutoffs -------------------------------------------------------------------------
def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def nth_workday_back(day: dt.date, n: int) -> dt.date:
    """The n-th working day counting back from `day`, `day` itself included when it is a working day."""
    remaining = n
    while True:
        if workdays.is_workday(day):
            remaining -= 1
            if remaining <= 0:
                return day
        day -= dt.timedelta(days=1)


def overdue_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Deadlines before this moment are at least `days` working days overdue at `now`.

    Agrees with campaign.workdays.workdays_between(deadline, now) >= days: the working days after the
    deadline's day up to and including today. (workdays.subtract_workdays counts a weekend `now` as a
    working day, which would fire 督办 on the Saturday before the 7th working day; hence this.)
    """
    if days <= 0:
        return now
    return _day_start(nth_workday_back(timezone.localdate(now), days))


def reminder_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Deadlines before this moment are at most `days` working days away (today not counted)."""
    return _day_start(timezone.localtime(workdays.add_workdays(now, days + 1)).date())


def not_accepted_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Assigned before this moment and still not signed for: the `days` working days to sign for ended
    before today (the window is workdays.add_workdays(assigned_at, days)). The sweep no longer flags
    these (the practice sweep's sign-for ladder does); the benchmark builds its data with it."""
    return _day_start(nth_workday_back(timezone.localdate(now) - dt.timedelta(days=1), days))


# --- the levels ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    level: int  # EscalationLevel
    name: str  # counts key and notification kind suffix
    unit_roles: tuple[str, ...]
    title: str  # one assignment; {number} and {deadline} filled in per lead
    unit_summary: str  # several assignments for one user at once; %(count)s
    office_title: str = ""  # the office's summary; %(count)s; empty: the office is not told
    list_query: str = ""  # the lead list's filter for this level


def _steps() -> list[Step]:
    rem = escalation_setting("REMINDER_WORKDAYS")
    sup = escalation_setting("SUPERVISION_WORKDAYS")
    acc = escalation_setting("ACCOUNTABILITY_WORKDAYS")
    heads, liaisons = (Role.UNIT_HEAD,), (Role.LIAISON,)
    return [
        Step(
            EscalationLevel.ACCOUNTABILITY,
            "accountability",
            heads,
            _("线索 {number} 超期已满 %(days)s 个工作日（期限 {deadline}），市扫黑办将研究约谈")
            % {"days": acc},
            _("%%(count)s 件线索超期已满 %(days)s 个工作日，市扫黑办将研究约谈") % {"days": acc},
            _("%%(count)s 件线索超期已满 %(days)s 个工作日，请研究约谈建议") % {"days": acc},
            "?overdue=true",
        ),
        Step(
            EscalationLevel.SUPERVISION,
            "supervision",
            heads,
            _("线索 {number} 超期已满 %(days)s 个工作日（期限 {deadline}），市扫黑办将予督办")
            % {"days": sup},
            _("%%(count)s 件线索超期已满 %(days)s 个工作日，市扫黑办将予督办") % {"days": sup},
            _("%%(count)s 件线索超期已满 %(days)s 个工作日，请拟制督办通知") % {"days": sup},
            "?overdue=true",
        ),
        Step(
            EscalationLevel.OVERDUE,
            "overdue",
            heads + liaisons,
            _("线索 {number} 已超过办理期限（{deadline}），请抓紧核查反馈"),
            _("%(count)s 件线索已超过办理期限，请抓紧核查反馈"),
            _("新增超期线索 %(count)s 件"),
            "?overdue=true",
        ),
        Step(
            EscalationLevel.REMINDER,
            "reminder",
            liaisons,
            _("线索 {number} 将于 {deadline} 到期，请抓紧核查反馈"),
            _("%%(count)s 件线索将在 %(days)s 个工作日内到期，请抓紧核查反馈") % {"days": rem},
        ),
    ]


def escalation_windows(now: dt.datetime) -> dict[int, tuple[dt.datetime | None, dt.datetime]]:
    """Per level, the deadline window [low, high): disjoint, so each run moves an assignment once."""
    c_acc = overdue_cutoff(now, escalation_setting("ACCOUNTABILITY_WORKDAYS"))
    c_sup = overdue_cutoff(now, escalation_setting("SUPERVISION_WORKDAYS"))
    c_rem = reminder_cutoff(now, escalation_setting("REMINDER_WORKDAYS"))
    return {
        EscalationLevel.ACCOUNTABILITY: (None, c_acc),
        EscalationLevel.SUPERVISION: (c_acc, c_sup),
        EscalationLevel.OVERDUE: (c_sup, now),
        EscalationLevel.REMINDER: (now, c_rem),
    }


# --- SQL -----------------------------------------------------------------------------------------
# A few short statements per batch, each driven by an index (one big CTE joining leads made the planner
# hash-join whole tables at scale): pick and lock assignments, lock their leads, move and log.
_OPEN = [AssignmentStatus.ASSIGNED.value, AssignmentStatus.ACCEPTED.value]
_UTC_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def _tables() -> dict[str, str]:
    qn = connection.ops.quote_name
    return {
        "a": qn(Assignment._meta.db_table),
        "l": qn(Lead._meta.db_table),
        "e": qn(LeadEvent._meta.db_table),
        "n": qn(Notification._meta.db_table),
        "u": qn(User._meta.db_table),
    }


def _pick_sql(stored: int) -> str:
    """Lock up to %(batch)s assignments at level `stored` in the deadline window [low, high) (the
    assignment_escalation_<stored> index; the level is written into the SQL so the planner matches the
    partial index)."""
    t = _tables()
    return f"""
        SELECT a.id, a.lead_id, a.escalation_level FROM {t["a"]} a
        WHERE a.status = ANY(%(open)s) AND a.escalation_level = {int(stored)}
          AND a.deadline >= %(low)s AND a.deadline < %(high)s
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    """  # noqa: S608 — table names from model meta; values are parameters


def _lock_leads_sql() -> str:
    return f"SELECT id, number FROM {_tables()['l']} WHERE id = ANY(%s) FOR KEY SHARE SKIP LOCKED"  # noqa: S608


def _move_sql() -> str:
    """Move the locked rows up, write one timeline event each, and return them in deadline order with
    the deadline as the local day and as UTC ISO text (formatted here: parsing 50k timestamps into
    Python and formatting them again cost more than the UPDATE's own CPU)."""
    t = _tables()
    return f"""
        WITH moved AS (
            UPDATE {t["a"]}
            SET escalation_level = %(level)s, escalated_at = %(at)s, escalated_deadline = deadline
            WHERE id = ANY(%(ids)s)
            RETURNING id, lead_id, unit_id, deadline,
                to_char(deadline AT TIME ZONE %(tz)s, 'YYYY-MM-DD') AS day,
                to_char(deadline AT TIME ZONE 'UTC', {_UTC_ISO}) AS due
        ), events AS (
            INSERT INTO {t["e"]} (lead_id, assignment_id, at, actor_id, action, from_status, to_status, note, data)
            SELECT m.lead_id, m.id, %(at)s, NULL, 'escalate', '', '', replace(%(note)s, '{{deadline}}', m.day),
                jsonb_build_object('level', %(level)s, 'from_level', o.old_level, 'deadline', m.due,
                                   'as_of', %(as_of)s)
            FROM moved m JOIN unnest(%(ids)s::bigint[], %(old)s::smallint[]) AS o(id, old_level) ON o.id = m.id
        )
        SELECT id, lead_id, unit_id, day, due FROM moved ORDER BY deadline, id
    """  # noqa: S608


def _reset_stale_sql() -> str:
    # The predicate repeats the assignment_escalation_stale index's, so the planner uses that index.
    t = _tables()
    return f"""
        WITH stale AS (
            SELECT id FROM {t["a"]}
            WHERE escalation_level > 0 AND status = ANY(%(open)s)
              AND (escalated_deadline < deadline OR escalated_deadline > deadline)
            LIMIT %(batch)s
            FOR UPDATE SKIP LOCKED
        )
        UPDATE {t["a"]} a SET escalation_level = 0 FROM stale WHERE a.id = stale.id
    """  # noqa: S608


def _utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def escalation_dedupe_key(assignment_id: int, level: int, deadline: dt.datetime | str) -> str:
    """The per-assignment key of a level's notices (per user it gets ':u<id>' appended); `deadline` as a
    datetime or as its UTC ISO text (what the sweep's UPDATE … RETURNING gives)."""
    due = deadline if isinstance(deadline, str) else _utc_iso(deadline)
    return f"esc:{assignment_id}:{level}:{due}"


# --- the sweep -----------------------------------------------------------------------------------
def _lead_url_template() -> str:
    sentinel = 987654321
    return reverse("leads:detail", args=[sentinel]).replace(str(sentinel), "{id}")


def _digest(values) -> str:
    return hashlib.sha256(",".join(str(v) for v in values).encode()).hexdigest()[:16]


class Moved(NamedTuple):
    id: int
    lead_id: int
    unit_id: int
    day: str  # the deadline's local day, YYYY-MM-DD
    due: str  # the deadline in UTC, ISO 8601 to the second
    number: str


def _run_batch(step: Step, params: dict, *, now: dt.datetime, at: dt.datetime) -> tuple[int, int, int, int]:
    """One transaction: lock a batch, move it up, write events and notifications.

    Returns (picked, moved, notified, emails); `picked` tells the caller whether more may be waiting.
    """
    with transaction.atomic(), connection.cursor() as cur:
        picked: list[tuple] = []
        # Each level below the step's, lowest first, until the batch is full (one index range each).
        for stored in range(step.level):
            cur.execute(_pick_sql(stored), {**params, "batch": params["batch"] - len(picked)})
            picked += cur.fetchall()
            if len(picked) >= params["batch"]:
                break
        if not picked:
            return 0, 0, 0, 0
        cur.execute(_lock_leads_sql(), [list({r[1] for r in picked})])
        numbers = dict(cur.fetchall())
        picked_count = len(picked)
        # A lead a user is changing right now (FOR UPDATE in lead_transition) is left for the next run;
        # a batch of nothing but such leads ends this run (the next batch would pick them again).
        picked = [r for r in picked if r[1] in numbers]
        if not picked:
            return 0, 0, 0, 0
        note = _("系统自动%(level)s（办理期限 {deadline}）") % {"level": EscalationLevel(step.level).label}
        cur.execute(
            _move_sql(),
            {
                "ids": [r[0] for r in picked],
                "old": [r[2] for r in picked],
                "level": int(step.level),
                "at": at,
                "note": note,
                "tz": timezone.get_current_timezone_name(),
                "as_of": now.isoformat(),
            },
        )
        rows = [Moved(*r, numbers[r[1]]) for r in cur.fetchall()]
        notified, emails = _notify_units(step, rows)
        if step.office_title:
            result = _notify_office(step, rows)
            notified += result.created
            emails += len(result.outbound_ids)
    return picked_count, len(rows), notified, emails


def _notify_units(step: Step, rows: list[Moved]) -> tuple[int, int]:
    """In-app notices for the units' liaisons/heads, and one email per recipient listing them.

    Up to UNIT_NOTICE_MAX new assignments for one user in one batch get a notice each (linking to the
    lead, key esc:<assignment>:<level>:<deadline>:u<user>); more get one notice listing them, so a unit
    with a hundred leads falling due at once is told once, not a hundred times. Notices are written with
    INSERT … ON CONFLICT DO NOTHING; only users with a new notice get the email. The lines, listing and
    digest of a unit are made once, however many of its people are told.
    """
    by_unit: dict[int, list[Moved]] = {}
    for r in rows:
        by_unit.setdefault(r.unit_id, []).append(r)
    users = list(
        User.objects.filter(unit_id__in=list(by_unit), role__in=list(step.unit_roles), is_active=True).only(
            "pk", "unit_id", "email", "username", "display_name"
        )
    )
    if not users:
        return 0, 0
    most = escalation_setting("UNIT_NOTICE_MAX")
    limit = escalation_setting("EMAIL_LIST_MAX")
    url = _lead_url_template()
    kind = f"escalation_{step.name}"
    more = _("…… 另有 %(more)s 件")
    units = {}  # unit id → (its rows, their lines, the lines to list, digest)
    for unit_id in {user.unit_id for user in users}:
        items = by_unit[unit_id]
        # Only the first `limit` lines are ever shown (listing notice, email); the rest are counted.
        lines = [
            step.title.replace("{number}", r.number).replace("{deadline}", r.day)
            for r in (items if len(items) <= most else items[:limit])
        ]
        shown = lines[:limit] + ([more % {"more": len(items) - limit}] if len(items) > limit else [])
        units[unit_id] = (items, lines, shown, _digest(f"{r.id}@{r.due}" for r in items))
    objs: list[Notification] = []
    for user in users:
        items, lines, shown, digest = units[user.unit_id]
        if len(items) <= most:
            for r, line in zip(items, lines, strict=True):
                objs.append(
                    Notification(
                        user_id=user.pk,
                        kind=kind,
                        title=line[:200],
                        url=url.replace("{id}", str(r.lead_id)),
                        dedupe_key=scoped_key(escalation_dedupe_key(r.id, step.level, r.due), f"u{user.pk}"),
                    )
                )
        else:
            objs.append(
                Notification(
                    user_id=user.pk,
                    kind=kind,
                    title=(step.unit_summary % {"count": len(items)})[:200],
                    body="\n".join(shown),
                    url=reverse("leads:list") + step.list_query,
                    dedupe_key=f"esc-list:{step.name}:u{user.pk}:{digest}",
                )
            )
    created = insert_new_rows(Notification, objs, returning=["id", "user"])
    if not escalation_setting("EMAIL"):
        return len(created), 0
    told = {user_id for _id, user_id in created}
    base = settings.PORTAL_BASE_URL.rstrip("/")
    outgoing = []
    for user in users:
        if user.pk not in told or not user.email:
            continue
        items, lines, shown, digest = units[user.unit_id]
        body = [_("%(name)s，您好：") % {"name": user}, ""]
        body += [f"· {line}" for line in shown]
        body += [
            "",
            _("请登录平台查看处理：%(url)s") % {"url": f"{base}/notifications/"},
            "",
            _("—— 焦作市扫黑除恶线索管理平台（系统自动发送，请勿直接回复）"),
        ]
        subject = lines[0] if len(items) == 1 else step.unit_summary % {"count": len(items)}
        outgoing.append(
            Outgoing(
                channel=OutboundMessage.Channel.EMAIL,
                recipient=user.email,
                subject=_("【扫黑除恶线索管理平台】%(title)s") % {"title": subject},
                body="\n".join(body),
                dedupe_key=f"esc-mail:{step.name}:u{user.pk}:{digest}",
            )
        )
    return len(created), len(outbound_enqueue_many(messages=outgoing))


def _notify_office(step: Step, rows: list[Moved]):
    limit = escalation_setting("EMAIL_LIST_MAX")
    units = {u.pk: u.short_name or u.name for u in Unit.objects.filter(pk__in={r.unit_id for r in rows})}
    lines = [
        _("%(number)s（%(unit)s，期限 %(deadline)s）")
        % {"number": r.number, "unit": units.get(r.unit_id, ""), "deadline": r.day}
        for r in rows[:limit]
    ]
    if len(rows) > limit:
        lines.append(_("…… 另有 %(more)s 件") % {"more": len(rows) - limit})
    return notify(
        users=office_users(),
        kind=f"escalation_{step.name}_summary",
        title=step.office_title % {"count": len(rows)},
        body="\n".join(lines),
        url=reverse("leads:list") + step.list_query,
        # Keyed by assignment and deadline: after an extension the same assignment is news again.
        dedupe_key=f"esc-office:{step.name}:{_digest(f'{r.id}@{r.due}' for r in rows)}",
        email=bool(escalation_setting("EMAIL")),
    )


def escalation_sweep(
    *, now: dt.datetime | None = None, batch_size: int | None = None, max_batches: int | None = None
) -> dict:
    """Run every level once over all open assignments, in bounded batches; returns counts per level.

    `now` is the moment the calendar is evaluated at (drills and tests pass `--now`); events and
    notifications are stamped with the real time.
    """
    now = now or timezone.now()
    batch_size = batch_size or escalation_setting("BATCH_SIZE")
    max_batches = max_batches or escalation_setting("MAX_BATCHES")
    windows = escalation_windows(now)
    minus_infinity = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
    counts: dict[str, int] = {}
    notified = emails = 0
    started = time.monotonic()
    # A deadline moved since its level was reached (and nobody reset the level): climb again.
    counts["reset"] = 0
    for _n in range(max_batches):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_reset_stale_sql(), {"open": _OPEN, "batch": batch_size})
            reset = cur.rowcount
        counts["reset"] += reset
        if reset < batch_size:
            break
    for step in _steps():
        low, high = windows[step.level]
        params = {"open": _OPEN, "low": low or minus_infinity, "high": high, "batch": batch_size}
        moved_total = 0
        for _n in range(max_batches):
            picked, moved, n, e = _run_batch(step, params, now=now, at=timezone.now())
            moved_total += moved
            notified += n
            emails += e
            if picked < batch_size:
                break
        counts[step.name] = moved_total
    counts.update(notifications=notified, emails=emails, ms=round((time.monotonic() - started) * 1000))
    return counts
