"""The escalation sweep: each level fires once per assignment, at the right working day, with its notices.

The deadline used throughout is the end of Friday 2026-10-09, the day after the National Day week:
reminder from Tue 09-29 (Sep 30, Oct 8, Oct 9 are the last three working days), overdue from the
make-up Saturday 10-10, supervision on the 7th overdue working day Mon 10-19, accountability on the
15th, Thu 10-29.
"""

import datetime as dt
import json
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaign import ops
from campaign.models import Notification, OutboundMessage
from leads.escalation import escalation_dedupe_key, escalation_sweep
from leads.escalation_levels import EscalationLevel
from leads.models import Assignment, Lead, LeadEvent

from ..leads.factories import act, register, submit


def at(day: str, hm: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{hm}"))


def end_of(day: str) -> dt.datetime:
    return at(day, "23:59:59")


def make_assignment(
    users, sectors, regions, *, deadline="2026-10-09", assigned="2026-09-14", accept=True, unit="housing"
) -> Assignment:
    lead = register(users, sectors, regions, units=[unit], now=at(assigned))
    if accept:
        act(users, lead, "accept", f"liaison_{unit}")
    assignment = lead.assignments.get(unit__code=unit)
    Assignment.objects.filter(pk=assignment.pk).update(deadline=end_of(deadline))
    assignment.refresh_from_db()
    return assignment


def run(now: str) -> dict:
    out = StringIO()
    call_command("escalate_overdue", "--now", now, stdout=out)
    return json.loads(out.getvalue())


def esc_notifications():
    return Notification.objects.filter(kind__startswith="escalation_")


def snapshot():
    return (
        esc_notifications().count(),
        OutboundMessage.objects.count(),
        LeadEvent.objects.filter(action="escalate").count(),
    )


def new_since(before_ids: set[int]) -> list[tuple[str, str]]:
    return sorted(
        (n.kind, n.user.username)
        for n in esc_notifications().select_related("user")
        if n.pk not in before_ids
    )


def ids():
    return set(esc_notifications().values_list("pk", flat=True))


COUNT_KEYS = ("accountability", "supervision", "overdue", "reminder")


def moved(counts: dict) -> dict:
    return {k: counts[k] for k in COUNT_KEYS if counts[k]}


def test_escalation_twice_at_the_same_now_notifies_once(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    first = run("2026-10-10T09:00")
    assert moved(first) == {"overdue": 1}
    # liaison + head of housing, and one summary for each of the two office staff; an email each.
    assert first["notifications"] == 4
    assert first["emails"] == 4
    before = snapshot()
    second = run("2026-10-10T09:00")
    assert moved(second) == {}
    assert second["notifications"] == 0 and second["emails"] == 0
    assert snapshot() == before
    a.refresh_from_db()
    assert a.escalation_level == EscalationLevel.OVERDUE


def test_moving_now_across_each_boundary_sends_exactly_that_levels_notices(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    lead = Lead.objects.get(pk=a.lead_id)
    steps = [
        ("2026-09-28T10:00", {}, []),
        (
            "2026-09-29T10:00",
            {"reminder": 1},
            [("escalation_reminder", "liaison_housing")],
        ),
        ("2026-10-09T12:00", {}, []),
        (
            "2026-10-10T09:00",
            {"overdue": 1},
            [
                ("escalation_overdue", "liaison_housing"),
                ("escalation_overdue", "unit_head_housing"),
                ("escalation_overdue_summary", "office"),
                ("escalation_overdue_summary", "office_leader"),
            ],
        ),
        ("2026-10-17T10:00", {}, []),  # Saturday: six overdue working days, not seven
        ("2026-10-18T10:00", {}, []),
        (
            "2026-10-19T08:00",
            {"supervision": 1},
            [
                ("escalation_supervision", "unit_head_housing"),
                ("escalation_supervision_summary", "office"),
                ("escalation_supervision_summary", "office_leader"),
            ],
        ),
        ("2026-10-28T18:00", {}, []),
        (
            "2026-10-29T08:00",
            {"accountability": 1},
            [
                ("escalation_accountability", "unit_head_housing"),
                ("escalation_accountability_summary", "office"),
                ("escalation_accountability_summary", "office_leader"),
            ],
        ),
        ("2026-12-31T10:00", {}, []),
    ]
    for now, expected_counts, expected_notices in steps:
        before = ids()
        counts = run(now)
        assert moved(counts) == expected_counts, now
        assert new_since(before) == sorted(expected_notices), now
    a.refresh_from_db()
    assert a.escalation_level == EscalationLevel.ACCOUNTABILITY
    events = list(LeadEvent.objects.filter(lead=lead, action="escalate").order_by("id"))
    assert [e.data["level"] for e in events] == [1, 2, 3, 4]
    assert [e.data["from_level"] for e in events] == [0, 1, 2, 3]
    assert all(e.assignment_id == a.pk and e.actor_id is None for e in events)
    reminder = esc_notifications().get(kind="escalation_reminder")
    assert lead.number in reminder.title and "2026-10-09" in reminder.title
    assert reminder.url == f"/leads/{lead.pk}/"
    assert (
        reminder.dedupe_key == escalation_dedupe_key(a.pk, 1, a.deadline) + f":u{users['liaison_housing'].pk}"
    )
    summary = esc_notifications().filter(kind="escalation_overdue_summary").first()
    assert lead.number in summary.body


def test_an_assignment_jumping_levels_gets_only_the_highest_levels_notices(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    counts = run("2026-11-02T09:00")
    assert moved(counts) == {"accountability": 1}
    assert {k for k, _u in new_since(set())} == {
        "escalation_accountability",
        "escalation_accountability_summary",
    }
    event = LeadEvent.objects.get(assignment=a, action="escalate")
    assert (event.data["from_level"], event.data["level"]) == (0, 4)
    assert moved(run("2026-11-03T09:00")) == {}


def test_an_approved_extension_restarts_the_ladder_against_the_new_deadline(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    lead = Lead.objects.get(pk=a.lead_id)
    # Asked for on the last day, overdue while the office decides, approved on Monday.
    act(
        users,
        lead,
        "request_extension",
        "liaison_housing",
        days=8,
        note="需调取银行流水。",
        now=at("2026-10-09"),
    )
    assert moved(run("2026-10-10T09:00")) == {"overdue": 1}
    act(users, lead, "approve_extension", "office", now=at("2026-10-12", "08:00"))
    a.refresh_from_db()
    # Eight working days after Oct 9: 10 (make-up Saturday), 12–16, 19, 20.
    assert a.deadline == end_of("2026-10-20") and a.escalation_level == 0
    assert moved(run("2026-10-14T09:00")) == {}  # four working days left
    before = ids()
    assert moved(run("2026-10-15T09:00")) == {"reminder": 1}
    assert new_since(before) == [("escalation_reminder", "liaison_housing")]
    before = ids()
    assert moved(run("2026-10-21T09:00")) == {"overdue": 1}
    assert len(new_since(before)) == 4
    keys = set(esc_notifications().filter(kind="escalation_overdue").values_list("dedupe_key", flat=True))
    assert len(keys) == 4  # two per deadline: the old one's and the new one's


def test_a_deadline_moved_without_a_reset_restarts_the_ladder(users, sectors, regions):
    # Signing for when the clock starts at signing, or an admin's edit, moves the deadline and leaves
    # the stored level alone; the sweep notices the level was reached against another deadline.
    a = make_assignment(users, sectors, regions)
    assert moved(run("2026-09-29T10:00")) == {"reminder": 1}
    Assignment.objects.filter(pk=a.pk).update(deadline=end_of("2026-10-23"))
    counts = run("2026-09-30T10:00")
    assert counts["reset"] == 1 and moved(counts) == {}  # reset, and the new deadline is weeks away
    a.refresh_from_db()
    assert a.escalation_level == 0
    before = ids()
    assert moved(run("2026-10-20T10:00")) == {"reminder": 1}
    assert new_since(before) == [("escalation_reminder", "liaison_housing")]
    assert run("2026-10-20T10:00")["reset"] == 0


def test_not_signing_for_is_left_to_the_practice_sweep(users, sectors, regions):
    # 排而不查 is the practice sweep's sign-for ladder (tests/practice/test_sign_for.py); the escalation
    # sweep has no flag of its own for it, so nobody is told twice about the same unsigned assignment.
    make_assignment(users, sectors, regions, assigned="2026-09-29", accept=False, deadline="2026-11-20")
    counts = run("2026-10-20T08:00")
    assert moved(counts) == {} and "not_accepted" not in counts
    assert counts["notifications"] == 0 and esc_notifications().count() == 0


def test_many_leads_at_once_make_one_listing_notice_per_person(users, sectors, regions):
    many = [make_assignment(users, sectors, regions) for _i in range(12)]
    counts = run("2026-10-10T09:00")
    assert counts["overdue"] == 12
    notices = list(esc_notifications().filter(kind="escalation_overdue").select_related("user"))
    assert sorted(n.user.username for n in notices) == ["liaison_housing", "unit_head_housing"]
    numbers = set(Lead.objects.filter(assignments__in=many).values_list("number", flat=True))
    for notice in notices:
        assert notice.title.startswith("12 件线索已超过办理期限")
        assert {line.split()[1] for line in notice.body.splitlines()} == numbers
    mails = OutboundMessage.objects.filter(dedupe_key__startswith="esc-mail:overdue:")
    assert sorted(m.recipient for m in mails) == [
        "liaison_housing@saohei.local",
        "unit_head_housing@saohei.local",
    ]
    assert LeadEvent.objects.filter(action="escalate").count() == 12  # the timeline still has one each
    assert moved(run("2026-10-10T09:00")) == {}


def test_finished_assignments_are_never_escalated(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    submit(users, Lead.objects.get(pk=a.lead_id), "liaison_housing")
    assert moved(run("2026-11-02T09:00")) == {}
    assert esc_notifications().count() == 0


def test_the_sweep_costs_the_same_queries_for_3_or_30_assignments(users, sectors, regions):
    def measure(n: int) -> int:
        for _i in range(n):
            make_assignment(users, sectors, regions, unit="transport")
        with CaptureQueriesContext(connection) as ctx:
            counts = escalation_sweep(now=at("2026-10-10", "09:00"))
        assert counts["overdue"] == n
        return len(ctx.captured_queries)

    assert measure(3) == measure(30)


def test_a_run_is_recorded_for_the_ops_page(users, sectors, regions, client_as, test_redis):
    make_assignment(users, sectors, regions)
    run("2026-10-10T09:00")
    recorded = ops.periodic_runs()["escalate_overdue"]
    assert recorded["counts"]["overdue"] == 1
    assert recorded["counts"]["as_of"].startswith("2026-10-10T09:00")
    page = client_as("office").get("/ops/")
    assert page.status_code == 200
    assert "escalate_overdue" in page.content.decode()


def test_a_bad_now_is_refused_with_a_readable_error(db):
    with pytest.raises(CommandError, match="ISO"):
        call_command("escalate_overdue", "--now", "next tuesday")


# --- concurrency ---------------------------------------------------------------------------------
def _in_thread(fn):
    errors = []

    def target():
        try:
            fn()
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_and_notify_each_assignment_once(users, sectors, regions):
    assignments = [make_assignment(users, sectors, regions) for _i in range(24)]
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        barrier.wait()
        results.append(escalation_sweep(now=at("2026-10-10", "09:00"), batch_size=4))

    threads = [_in_thread(sweep) for _i in range(2)]
    for thread, errors in threads:
        thread.join(60)
        assert not errors, errors
    assert sum(r["overdue"] for r in results) == 24
    events = LeadEvent.objects.filter(action="escalate")
    assert events.count() == 24
    assert sorted(events.values_list("assignment_id", flat=True)) == sorted(a.pk for a in assignments)
    unit_notices = esc_notifications().filter(kind="escalation_overdue")
    assert unit_notices.count() == 24 * 2  # liaison and head, once each per assignment


@pytest.mark.django_db(transaction=True)
def test_a_lead_being_changed_by_a_user_is_skipped_not_waited_for(users, sectors, regions):
    a = make_assignment(users, sectors, regions)
    b = make_assignment(users, sectors, regions)
    locked, release = threading.Event(), threading.Event()

    def user_transaction():
        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=a.lead_id)
            locked.set()
            release.wait(30)

    thread, errors = _in_thread(user_transaction)
    assert locked.wait(10)
    try:
        counts = escalation_sweep(now=at("2026-10-10", "09:00"))
        assert counts["overdue"] == 1
        assert list(LeadEvent.objects.filter(action="escalate").values_list("assignment_id", flat=True)) == [
            b.pk
        ]
    finally:
        release.set()
        thread.join(30)
    assert not errors
    assert escalation_sweep(now=at("2026-10-10", "09:00"))["overdue"] == 1
    a.refresh_from_db()
    assert a.escalation_level == EscalationLevel.OVERDUE
