"""The practice sweep (issue 11): sign-for reminders, missing report-backs, repeat reports, call-back draws.

Beside the escalation sweep (leads/escalation.py, the deadline ladder), on its own beat task. Not signing
for in time (排而不查) is this sweep's rule alone: the escalation sweep has no flag of its own for it, so
nobody is told twice. Levels, each fired once per assignment whatever the number of beats and workers:

    sign-for 1  the sign-for time (Assignment.accept_deadline) has passed   → liaisons, with SMS (签收催办)
    sign-for 2  SIGN_FOR_ESCALATE_WORKDAYS working days later, still unsigned → the unit head, with SMS,
                and the office one summary per batch (排而不查); the deadline ladder follows as for any
                open assignment
    first report  FIRST_REPORT_WORKDAYS after signing without a 首次回告      → liaisons (催报)
    stage report  a 阶段回告 the office asked for, past its date              → liaisons (催报)

Each batch is one transaction: pick rows in the level's window (an index range) FOR UPDATE SKIP LOCKED,
lock their leads FOR KEY SHARE SKIP LOCKED (a lead a user is changing is left for the next run, so the
sweep never waits on a user and never deadlocks with lead_transition), mark them, write the timeline
events and the notifications. Mail and SMS leave through the outbox after commit. Notices carry dedupe
keys as a second guard.

Repeat reports: tips are checked when committed (reports.signals.tip_committed → `repeat_check_tip`
task), and the sweep reads tips past a mark (SweepMark "repeat_tips") for any whose message was lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign import ops, workdays
from campaign.roles import Role
from reports.models import Tip

from .conf import leads_setting
from .models import Assignment, AssignmentStatus, Lead, LeadEvent, StageReportRequest, SweepMark
from .practice import callback_draw, month_start, repeat_check_tip

log = logging.getLogger(__name__)

SIGN_FOR_REMINDED = 1
SIGN_FOR_ESCALATED = 2
# Tips younger than this are left to their on-commit task.
REPEAT_MIN_AGE = dt.timedelta(seconds=30)


def sign_for_escalate_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Sign-for deadlines before this moment had `days` more working days pass without signing
    (now > workdays.add_workdays(accept_deadline, days)); one indexed comparison instead of a Python pass.

    Those working days must all have ended before today, so they are counted up to yesterday; the shared
    cutoff is the end of a day (deadlines at or before it qualify), so the bound is the next second.
    """
    if days <= 0:
        return now
    return workdays.subtract_workdays(now - dt.timedelta(days=1), days) + dt.timedelta(seconds=1)


def _lock_leads(lead_ids) -> dict[int, str]:
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id, number FROM {table} WHERE id = ANY(%s) FOR KEY SHARE SKIP LOCKED",  # noqa: S608
            [list(lead_ids)],
        )
        return dict(cur.fetchall())


def _day(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _notify_unit(*, unit_id, roles, kind, title, lead_id, key, sms=False, body="") -> int:
    from campaign.notifications import notify, users_for_unit

    result = notify(
        users=users_for_unit(unit_id, roles=roles),
        kind=kind,
        title=title,
        body=body,
        url=reverse("leads:detail", args=[lead_id]),
        dedupe_key=key,
        sms=sms,
    )
    return result.created


# --- sign-for ------------------------------------------------------------------------------------
def _sign_for_batch(*, level: int, high: dt.datetime, now: dt.datetime, batch: int) -> tuple[int, int]:
    """One transaction of one sign-for level; returns (picked, moved)."""
    with transaction.atomic():
        picked = list(
            Assignment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=AssignmentStatus.ASSIGNED,
                sign_for_level__lt=level,
                accept_deadline__lt=high,
            )
            .order_by("accept_deadline", "id")
            .only("id", "lead_id", "unit_id", "accept_deadline", "sign_for_level")[:batch]
        )
        if not picked:
            return 0, 0
        numbers = _lock_leads({a.lead_id for a in picked})
        rows = [a for a in picked if a.lead_id in numbers]
        if not rows:
            return len(picked), 0
        Assignment.objects.filter(pk__in=[a.pk for a in rows]).update(
            sign_for_level=level, sign_for_notified_at=now
        )
        events = []
        for a in rows:
            number = numbers[a.lead_id]
            if level == SIGN_FOR_REMINDED:
                note = _("交办的线索未在签收期限（%(at)s）内签收，系统已催办联络员。") % {
                    "at": _day(a.accept_deadline)
                }
                _notify_unit(
                    unit_id=a.unit_id,
                    roles=[Role.LIAISON],
                    kind="sign_for_reminder",
                    title=_("线索 %(number)s 已超过签收期限，请立即签收") % {"number": number},
                    lead_id=a.lead_id,
                    key=f"signfor:{a.pk}:{level}",
                    sms=bool(leads_setting("SMS_SIGN_FOR")),
                )
            else:
                note = _("签收期限（%(at)s）后 %(days)s 个工作日仍未签收，系统已告知第一责任人。") % {
                    "at": _day(a.accept_deadline),
                    "days": leads_setting("SIGN_FOR_ESCALATE_WORKDAYS"),
                }
                _notify_unit(
                    unit_id=a.unit_id,
                    roles=[Role.UNIT_HEAD],
                    kind="sign_for_escalated",
                    title=_("本单位线索 %(number)s 交办后超时未签收，请督促签收") % {"number": number},
                    lead_id=a.lead_id,
                    key=f"signfor:{a.pk}:{level}",
                    sms=True,
                )
            events.append(
                LeadEvent(
                    lead_id=a.lead_id,
                    assignment_id=a.pk,
                    at=now,
                    action="sign_for_reminder" if level == SIGN_FOR_REMINDED else "sign_for_escalated",
                    note=note,
                    data={"level": level, "accept_deadline": a.accept_deadline.isoformat()},
                )
            )
        LeadEvent.objects.bulk_create(events)
        if level == SIGN_FOR_ESCALATED:
            _tell_office_not_signed(rows, numbers)
    return len(picked), len(rows)


def _tell_office_not_signed(rows, numbers: dict[int, str]) -> None:
    """The office's one notice per batch of assignments gone to their unit heads unsigned (排而不查)."""
    import hashlib

    from campaign.models import Unit
    from campaign.notifications import notify, office_users

    from .practice import office_audience

    units = {u.pk: u.short_name or u.name for u in Unit.objects.filter(pk__in={a.unit_id for a in rows})}
    # A restricted lead (限制知悉范围) is told only to its circle, one notice each; the summary to the whole
    # office names unrestricted leads only.
    restricted = {
        lead.pk: lead for lead in Lead.objects.filter(pk__in={a.lead_id for a in rows}, restricted=True)
    }
    for a in rows:
        lead = restricted.get(a.lead_id)
        if lead is None:
            continue
        notify(
            users=office_audience(lead),
            kind="sign_for_escalated_summary",
            title=_("%(count)s 件线索交办后超时未签收（排而不查）") % {"count": 1},
            body=_("%(number)s（%(unit)s，签收期限 %(at)s）")
            % {"number": numbers[a.lead_id], "unit": units.get(a.unit_id, ""), "at": _day(a.accept_deadline)},
            url=reverse("leads:detail", args=[a.lead_id]),
            dedupe_key=f"signfor-office:{a.pk}",
        )
    rows = [a for a in rows if a.lead_id not in restricted]
    if not rows:
        return
    limit = 20
    lines = [
        _("%(number)s（%(unit)s，签收期限 %(at)s）")
        % {"number": numbers[a.lead_id], "unit": units.get(a.unit_id, ""), "at": _day(a.accept_deadline)}
        for a in rows[:limit]
    ]
    if len(rows) > limit:
        lines.append(_("…… 另有 %(more)s 件") % {"more": len(rows) - limit})
    digest = hashlib.sha256(",".join(str(a.pk) for a in rows).encode()).hexdigest()[:16]
    notify(
        users=office_users(),
        kind="sign_for_escalated_summary",
        title=_("%(count)s 件线索交办后超时未签收（排而不查）") % {"count": len(rows)},
        body="\n".join(lines),
        url=reverse("leads:list") + "?status=assigned",
        dedupe_key=f"signfor-office:{digest}",
    )


# --- report-backs --------------------------------------------------------------------------------
def _first_report_batch(*, now: dt.datetime, batch: int) -> tuple[int, int]:
    with transaction.atomic():
        picked = list(
            Assignment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=AssignmentStatus.ACCEPTED,
                first_report_at__isnull=True,
                first_report_reminded_at__isnull=True,
                first_report_due__lt=now,
            )
            .order_by("first_report_due", "id")
            .only("id", "lead_id", "unit_id", "first_report_due")[:batch]
        )
        if not picked:
            return 0, 0
        numbers = _lock_leads({a.lead_id for a in picked})
        rows = [a for a in picked if a.lead_id in numbers]
        if not rows:
            return len(picked), 0
        Assignment.objects.filter(pk__in=[a.pk for a in rows]).update(first_report_reminded_at=now)
        events = []
        for a in rows:
            _notify_unit(
                unit_id=a.unit_id,
                roles=[Role.LIAISON],
                kind="report_reminder",
                title=_("线索 %(number)s 的首次回告已超期（期限 %(due)s），请尽快报送")
                % {"number": numbers[a.lead_id], "due": _day(a.first_report_due)},
                lead_id=a.lead_id,
                key=f"first-report:{a.pk}",
            )
            events.append(
                LeadEvent(
                    lead_id=a.lead_id,
                    assignment_id=a.pk,
                    at=now,
                    action="report_reminder",
                    note=_("首次回告期限（%(due)s）已过，系统已催报。") % {"due": _day(a.first_report_due)},
                    data={"kind": "first", "due_at": a.first_report_due.isoformat()},
                )
            )
        LeadEvent.objects.bulk_create(events)
    return len(picked), len(rows)


def _stage_report_batch(*, now: dt.datetime, batch: int) -> tuple[int, int]:
    with transaction.atomic():
        picked = list(
            StageReportRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=StageReportRequest.Status.PENDING, reminded_at__isnull=True, due_at__lt=now)
            .select_related("assignment")
            .order_by("due_at", "id")[:batch]
        )
        if not picked:
            return 0, 0
        numbers = _lock_leads({r.lead_id for r in picked})
        rows = [r for r in picked if r.lead_id in numbers]
        if not rows:
            return len(picked), 0
        StageReportRequest.objects.filter(pk__in=[r.pk for r in rows]).update(reminded_at=now)
        events = []
        for r in rows:
            _notify_unit(
                unit_id=r.assignment.unit_id,
                roles=[Role.LIAISON],
                kind="report_reminder",
                title=_("线索 %(number)s 的阶段回告已超期（期限 %(due)s），请尽快报送")
                % {"number": numbers[r.lead_id], "due": _day(r.due_at)},
                lead_id=r.lead_id,
                key=f"stage-report:{r.pk}",
            )
            events.append(
                LeadEvent(
                    lead_id=r.lead_id,
                    assignment_id=r.assignment_id,
                    at=now,
                    action="stage_reminder",
                    note=_("阶段回告期限（%(due)s）已过，系统已催报。") % {"due": _day(r.due_at)},
                    data={"kind": "stage", "request": r.pk, "due_at": r.due_at.isoformat()},
                )
            )
        LeadEvent.objects.bulk_create(events)
    return len(picked), len(rows)


def _run(step, *, batch: int, max_batches: int, **kwargs) -> int:
    moved_total = 0
    for _n in range(max_batches):
        picked, moved = step(batch=batch, **kwargs)
        moved_total += moved
        # A short batch is the last; a batch of nothing but locked leads ends this run too.
        if picked < batch or moved == 0:
            break
    return moved_total


def practice_sweep(*, now: dt.datetime | None = None, batch: int | None = None) -> dict:
    """Run every level once in bounded batches; returns counts. `now` is when the calendar is read
    (drills and tests pass it); events are stamped with it too."""
    now = now or timezone.now()
    batch = batch or leads_setting("SWEEP_BATCH")
    max_batches = leads_setting("SWEEP_MAX_BATCHES")
    started = time.monotonic()
    escalate_high = sign_for_escalate_cutoff(now, leads_setting("SIGN_FOR_ESCALATE_WORKDAYS"))
    counts = {
        # The higher level first, so an assignment that jumps both gets the head's notice only.
        "sign_for_escalated": _run(
            _sign_for_batch,
            batch=batch,
            max_batches=max_batches,
            level=SIGN_FOR_ESCALATED,
            high=escalate_high,
            now=now,
        ),
        "sign_for_reminded": _run(
            _sign_for_batch, batch=batch, max_batches=max_batches, level=SIGN_FOR_REMINDED, high=now, now=now
        ),
        "first_report_reminded": _run(_first_report_batch, batch=batch, max_batches=max_batches, now=now),
        "stage_report_reminded": _run(_stage_report_batch, batch=batch, max_batches=max_batches, now=now),
    }
    counts["repeat_flagged"] = repeat_sweep(now=now)
    counts["ms"] = round((time.monotonic() - started) * 1000)
    return counts


# --- repeat reports ------------------------------------------------------------------------------
def _initial_mark(now: dt.datetime) -> int:
    # The first run starts a day back rather than at the first tip ever: older tips came in before
    # repeat checking existed, and reading millions of them in one go is not what a sweep is for.
    row = Tip.objects.filter(received_at__lt=now - dt.timedelta(days=1)).order_by("-pk").values("pk").first()
    return row["pk"] if row else 0


def repeat_sweep(*, now: dt.datetime | None = None, batch: int = 500, max_batches: int = 20) -> int:
    """Check tips past the mark for repeat reports (those whose on-commit task was lost)."""
    now = now or timezone.now()
    flagged = 0
    for _n in range(max_batches):
        with transaction.atomic():
            mark, _created = SweepMark.objects.select_for_update().get_or_create(
                name="repeat_tips", defaults={"last_id": _initial_mark(now)}
            )
            ids = list(
                Tip.objects.filter(pk__gt=mark.last_id, received_at__lt=now - REPEAT_MIN_AGE)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return flagged
            for tip_id in ids:
                flagged += len(repeat_check_tip(tip_id=tip_id, now=now))
            mark.last_id = ids[-1]
            mark.updated_at = timezone.now()
            mark.save(update_fields=["last_id", "updated_at"])
        if len(ids) < batch:
            break
    return flagged


def on_tip_committed(sender, *, tip_id: int, **kwargs) -> None:
    """Receiver of reports.signals.tip_committed: check the new tip for repeat reports on a worker.
    Never raises: with Redis down the sweep checks it."""
    try:
        repeat_check.apply_async(kwargs={"tip_id": tip_id}, queue="routing", retry=False)
    except Exception:
        log.warning("practice: could not queue the repeat check of tip %s; the sweep will do it", tip_id)


# --- tasks (beat schedule in config/settings/base.py) ----------------------------------------------
@shared_task(name="leads.practice_sweep.sweep", ignore_result=True, soft_time_limit=240, time_limit=300)
def sweep() -> dict:
    """Beat, every five minutes: sign-for ladder, report-back reminders, repeat reports."""
    counts = practice_sweep()
    ops.periodic_record("practice_sweep", **counts)
    return counts


@shared_task(
    name="leads.practice_sweep.repeat_check",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
)
def repeat_check(tip_id: int) -> int:
    """One committed tip against the identifiers of leads closed as 查否; safe to run twice."""
    return len(repeat_check_tip(tip_id=tip_id))


@shared_task(
    name="leads.practice_sweep.callback_draw_monthly", ignore_result=True, soft_time_limit=240, time_limit=300
)
def callback_draw_monthly() -> int:
    """Beat, on the 1st of each month: draw last month's call-back sample (once per month)."""
    today = timezone.localdate()
    return callback_draw(month=month_start(month_start(today) - dt.timedelta(days=1)))
