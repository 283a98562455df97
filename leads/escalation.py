"""The escalation sweep (`escalate_overdue`): reminders, overdue notices, supervision and accountability.

Levels (leads/escalation_levels.py), counted on the working-day calendar (campaign.workdays):

    REMINDER        deadline within REMINDER_WORKDAYS working days   → the unit's liaisons
    OVERDUE         deadline passed                                  → liaisons, unit head(s), office
    SUPERVISION     SUPERVISION_WORKDAYS working days overdue        → unit head(s), office (督办 draft:
                                                                       accountability's own sweep)
    ACCOUNTABILITY  ACCOUNTABILITY_WORKDAYS working days overdue     → unit head(s), office (约谈 proposal:
                                                                       likewise)

plus a one-shot flag, "assigned but not signed for within NOT_ACCEPTED_WORKDAYS working days" (排而不查),
stored in Assignment.accept_overdue_at → liaisons, unit head(s), office.

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
    "NOT_ACCEPTED_WORKDAYS": 3,  # after assignment, not signed for
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
    before today (the window is workdays.add_workdays(assigned_at, days))."""
    return _day_start(nth_workday_back(timezone.localdate(now) - dt.timedelta(days=1), days))


# --- the levels ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    level: int  # EscalationLevel, or 0 for the not-accepted flag
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
    sign = escalation_setting("NOT_ACCEPTED_WORKDAYS")
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
        Step(
            0,
            "not_accepted",
            heads + liaisons,
            _("线索 {number} 交办已超过 %(days)s 个工作日仍未签收，请立即签收") % {"days": sign},
            _("%%(count)s 件线索交办已超过 %(days)s 个工作日仍未签收，请立即签收") % {"days": sign},
            _("%%(count)s 件线索交办超过 %(days)s 个工作日仍未签收（排而不查）") % {"days": sign},
            "?status=assigned",
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


def _pick_sql(stored: int | None) -> str:
    """Lock up to %(batch)s assignments: at level `stored` in the deadline window [low, high) (the
    assignment_escalation_<stored> index; the level is written into the SQL so the planner matches the
    partial index), or, with None, assigned before %(high)s and still not signed for."""
    t = _tables()
    where = (
        f"a.status = ANY(%(open)s) AND a.escalation_level = {int(stored)} "
        "AND a.deadline >= %(low)s AND a.deadline < %(high)s"
        if stored is not None
        else "a.status = %(assigned)s AND a.accept_overdue_at IS NULL AND a.assigned_at < %(high)s"
    )
    return f"""
        SELECT a.id, a.lead_id, a.escalation_level FROM {t["a"]} a
        WHERE {where}
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    """  # noqa: S608 — table names from model meta; values are parameters


def _lock_leads_sql() -> str:
    return f"SELECT id, number FROM {_tables()['l']} WHERE id = ANY(%s) FOR KEY SHARE SKIP LOCKED"  # noqa: S608


def _move_sql(level: bool) -> str:
    t = _tables()
    if level:
        update = "escalation_level = %(level)s, escalated_at = %(at)s, escalated_deadline = deadline"
        action, note = (
            "'escalate'",
            "replace(%(note)s, '{deadline}', to_char(m.deadline AT TIME ZONE %(tz)s, 'YYYY-MM-DD'))",
        )
        data = (
            "jsonb_build_object('level', %(level)s, 'from_level', o.old_level, "
            f"'deadline', to_char(m.deadline AT TIME ZONE 'UTC', {_UTC_ISO}), 'as_of', %(as_of)s)"
        )
    else:
        update = "accept_overdue_at = %(at)s"
        action, note = "'accept_overdue'", "%(note)s"
        data = (
            f"jsonb_build_object('assigned_at', to_char(m.assigned_at AT TIME ZONE 'UTC', {_UTC_ISO}), "
            "'as_of', %(as_of)s)"
        )
    return f"""
        WITH moved AS (
            UPDATE {t["a"]} SET {update}
            WHERE id = ANY(%(ids)s)
            RETURNING id, lead_id, unit_id, deadline, assigned_at
        ), events AS (
            INSERT INTO {t["e"]} (lead_id, assignment_id, at, actor_id, action, from_status, to_status, note, data)
            SELECT m.lead_id, m.id, %(at)s, NULL, {action}, '', '', {note}, {data}
            FROM moved m JOIN unnest(%(ids)s::bigint[], %(old)s::smallint[]) AS o(id, old_level) ON o.id = m.id
        )
        SELECT id, lead_id, unit_id, deadline, assigned_at FROM moved ORDER BY deadline, id
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


def escalation_dedupe_key(assignment_id: int, level: int, deadline: dt.datetime) -> str:
    """The per-assignment key of a level's notices (per user it gets ':u<id>' appended)."""
    return f"esc:{assignment_id}:{level}:{_utc_iso(deadline)}"


# --- the sweep -----------------------------------------------------------------------------------
def _lead_url_template() -> str:
    sentinel = 987654321
    return reverse("leads:detail", args=[sentinel]).replace(str(sentinel), "{id}")


def _digest(values) -> str:
    return hashlib.sha256(",".join(str(v) for v in values).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Moved:
    id: int
    lead_id: int
    unit_id: int
    deadline: dt.datetime
    assigned_at: dt.datetime
    number: str


def _run_batch(step: Step, params: dict, *, now: dt.datetime, at: dt.datetime) -> tuple[int, int, int, int]:
    """One transaction: lock a batch, move it up, write events and notifications.

    Returns (picked, moved, notified, emails); `picked` tells the caller whether more may be waiting.
    """
    tz = settings.TIME_ZONE
    level = bool(step.level)
    with transaction.atomic(), connection.cursor() as cur:
        picked: list[tuple] = []
        # Each level below the step's, lowest first, until the batch is full (one index range each).
        for stored in range(step.level) if level else [None]:
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
        if level:
            note = _("系统自动%(level)s（办理期限 {deadline}）") % {
                "level": EscalationLevel(step.level).label
            }
        else:
            note = _("交办后超过 %(days)s 个工作日未签收（系统自动提醒）") % {
                "days": escalation_setting("NOT_ACCEPTED_WORKDAYS")
            }
        cur.execute(
            _move_sql(level),
            {
                "ids": [r[0] for r in picked],
                "old": [r[2] for r in picked],
                "level": int(step.level),
                "at": at,
                "note": note,
                "tz": tz,
                "as_of": now.isoformat(),
            },
        )
        rows = [Moved(*r, number=numbers[r[1]]) for r in cur.fetchall()]
        notified, emails = _notify_units(step, rows)
        if step.office_title:
            result = _notify_office(step, rows)
            notified += result.created
            emails += len(result.outbound_ids)
    return picked_count, len(rows), notified, emails


def _local_day(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def _notify_units(step: Step, rows: list[Moved]) -> tuple[int, int]:
    """In-app notices for the units' liaisons/heads, and one email per recipient listing them.

    Up to UNIT_NOTICE_MAX new assignments for one user in one batch get a notice each (linking to the
    lead, key esc:<assignment>:<level>:<deadline>:u<user>); more get one notice listing them, so a unit
    with a hundred leads falling due at once is told once, not a hundred times. Notices are written with
    INSERT … ON CONFLICT DO NOTHING; only users with a new notice get the email.
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
    objs: list[Notification] = []
    lines_for: dict[int, list[str]] = {}
    for user in users:
        items = by_unit[user.unit_id]
        lines = [
            step.title.replace("{number}", r.number).replace("{deadline}", _local_day(r.deadline))
            for r in items
        ]
        lines_for[user.pk] = lines
        if len(items) <= most:
            for r, line in zip(items, lines, strict=True):
                key = (
                    escalation_dedupe_key(r.id, step.level, r.deadline)
                    if step.level
                    else f"esc-accept:{r.id}:{_utc_iso(r.assigned_at)}"
                )
                objs.append(
                    Notification(
                        user_id=user.pk,
                        kind=kind,
                        title=line[:200],
                        url=url.replace("{id}", str(r.lead_id)),
                        dedupe_key=scoped_key(key, f"u{user.pk}"),
                    )
                )
        else:
            body = lines[:limit] + (
                [_("…… 另有 %(more)s 件") % {"more": len(lines) - limit}] if len(lines) > limit else []
            )
            digest = _digest(f"{r.id}@{_utc_iso(r.deadline)}" for r in items)
            objs.append(
                Notification(
                    user_id=user.pk,
                    kind=kind,
                    title=(step.unit_summary % {"count": len(items)})[:200],
                    body="\n".join(body),
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
        lines = lines_for[user.pk]
        body = [_("%(name)s，您好：") % {"name": user}, ""]
        body += [f"· {line}" for line in lines[:limit]]
        if len(lines) > limit:
            body.append(_("…… 另有 %(more)s 件") % {"more": len(lines) - limit})
        body += [
            "",
            _("请登录平台查看处理：%(url)s") % {"url": f"{base}/notifications/"},
            "",
            _("—— 焦作市扫黑除恶线索管理平台（系统自动发送，请勿直接回复）"),
        ]
        subject = lines[0] if len(lines) == 1 else step.unit_summary % {"count": len(lines)}
        outgoing.append(
            Outgoing(
                channel=OutboundMessage.Channel.EMAIL,
                recipient=user.email,
                subject=_("【扫黑除恶线索管理平台】%(title)s") % {"title": subject},
                body="\n".join(body),
                dedupe_key=f"esc-mail:{step.name}:u{user.pk}:{_digest(f'{r.id}@{_utc_iso(r.deadline)}' for r in by_unit[user.unit_id])}",
            )
        )
    return len(created), len(outbound_enqueue_many(messages=outgoing))


def _notify_office(step: Step, rows: list[Moved]):
    limit = escalation_setting("EMAIL_LIST_MAX")
    units = {u.pk: u.short_name or u.name for u in Unit.objects.filter(pk__in={r.unit_id for r in rows})}
    lines = [
        _("%(number)s（%(unit)s，期限 %(deadline)s）")
        % {
            "number": r.number,
            "unit": units.get(r.unit_id, ""),
            "deadline": timezone.localtime(r.deadline).strftime("%Y-%m-%d"),
        }
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
        dedupe_key=f"esc-office:{step.name}:{_digest(f'{r.id}@{r.deadline.isoformat()}' for r in rows)}",
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
    not_accepted = not_accepted_cutoff(now, escalation_setting("NOT_ACCEPTED_WORKDAYS"))
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
        if step.level:
            low, high = windows[step.level]
            params = {
                "open": _OPEN,
                "low": low or minus_infinity,
                "high": high,
                "level": int(step.level),
                "batch": batch_size,
            }
        else:
            params = {"assigned": AssignmentStatus.ASSIGNED.value, "high": not_accepted, "batch": batch_size}
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
