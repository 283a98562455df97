"""The rollups never drift: after changes through the services, the incremental refresh makes them equal
a direct count of the source rows again; what bypasses the services is caught by the full rebuild."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from dashboard import rollups
from dashboard.models import AssignmentFact, LeadFact, RollupState, TipDaily, TipDailyChannel
from leads.models import Assignment, Lead
from reports.models import Tip

from .factories import make_tip

pytestmark = pytest.mark.django_db


def tip_daily_direct() -> dict:
    """Tips per local day × channel × sector × region, counted on reports.Tip with the ORM."""
    rows = (
        Tip.objects.annotate(day=TruncDate("received_at"))  # in the current time zone (Asia/Shanghai)
        .values("day", "channel", "sector_id", "region_id")
        .annotate(n=Count("id"))
    )
    return {(r["day"], r["channel"], r["sector_id"], r["region_id"]): r["n"] for r in rows}


def tip_daily_rollup() -> dict:
    return {(r.day, r.channel, r.sector_id, r.region_id): r.count for r in TipDaily.objects.all()}


def lead_facts_match() -> None:
    facts = {f.lead_id: f for f in LeadFact.objects.all()}
    leads = list(Lead.objects.prefetch_related("assignments"))
    assert set(facts) == {lead.pk for lead in leads}
    for lead in leads:
        fact = facts[lead.pk]
        assert (fact.status, fact.result, fact.sector_id, fact.region_id, fact.restricted) == (
            lead.status,
            lead.result,
            lead.sector_id,
            lead.region_id,
            lead.restricted,
        )
        assert fact.deadline == lead.deadline
        assert fact.is_found == (
            lead.status in ("verified", "closed") and lead.result in ("substantiated", "partly")
        )
    assignments = {a.pk: a for a in Assignment.objects.all()}
    afacts = {f.assignment_id: f for f in AssignmentFact.objects.all()}
    assert set(afacts) == set(assignments)
    for pk, a in assignments.items():
        f = afacts[pk]
        assert (
            f.status,
            f.unit_id,
            f.deadline,
            f.accepted_at,
            f.submitted_at,
            f.result,
            f.returned_count,
        ) == (
            a.status,
            a.unit_id,
            a.deadline,
            a.accepted_at,
            a.submitted_at,
            a.result,
            a.returned_count,
        )


def tip_channel_direct() -> dict:
    rows = Tip.objects.annotate(day=TruncDate("received_at")).values("day", "channel").annotate(n=Count("id"))
    return {(r["day"], r["channel"]): r["n"] for r in rows}


def tip_channel_rollup() -> dict:
    return {(r.day, r.channel): r.count for r in TipDailyChannel.objects.all()}


def assert_no_drift():
    assert tip_daily_rollup() == tip_daily_direct()
    assert tip_channel_rollup() == tip_channel_direct()
    lead_facts_match()
    assert rollups.rollup_verify() == {
        "tip_daily": 0,
        "tip_daily_channel": 0,
        "lead_facts": 0,
        "assignment_facts": 0,
    }


def test_full_refresh_equals_direct_counts(world):
    assert_no_drift()
    assert RollupState.objects.get().full_refreshed_at is not None


def test_incremental_refresh_follows_changes_made_through_the_services(world):
    from leads.services import lead_register, lead_transition
    from reports.services import tip_record_triage, tip_submit

    users, sectors, regions = world["users"], world["sectors"], world["regions"]
    # A new public tip, a staff-entered letter received last month, and a triage decision on an old tip.
    tip_submit(
        description="工地有人强行收取保护费，多名工人被打伤。",
        sector=sectors["construction"],
        region=regions["macun"],
    )
    tip_submit(
        description="来信反映：某村霸长期把持村务，强占集体土地。",
        channel="letter",
        received_at=timezone.now() - dt.timedelta(days=33),
        created_by=users["office"],
    )
    tip_record_triage(
        tip_id=world["tips"]["ancient"].pk, status="rejected", actor=users["office"], note="不属于受理范围"
    )
    # A lead registered and assigned to two units, one of which signs for it, through the workflow.
    lead = lead_register(
        actor=users["office"],
        sector=sectors["transport"],
        region=regions["macun"],
        summary="车站周边有人强揽客运生意。",
        units=["housing", "transport"],
    )
    lead_transition(lead_id=lead.pk, action="accept", actor=users["liaison_transport"])
    # …and an existing lead's assignment signed for.
    old = world["leads"]["not_accepted"]
    Assignment.objects.filter(lead=old).update(status="accepted", accepted_at=timezone.now())
    old.status = "verifying"
    old.save(update_fields=["status"])
    from leads.models import LeadEvent

    LeadEvent.objects.create(lead=old, action="accept", from_status="assigned", to_status="verifying")

    result = rollups.rollup_refresh_incremental()
    assert not result.skipped and result.leads >= 2
    assert_no_drift()


def test_a_change_without_an_event_is_caught_by_the_full_rebuild_and_reported_by_verify(world):
    lead = world["leads"]["overdue"]
    # Written behind the services' back: no event, no new id, so the incremental refresh cannot see it.
    Lead.objects.filter(pk=lead.pk).update(
        status="closed", result="substantiated", disposition="criminal_case"
    )
    rollups.rollup_refresh_incremental(now=timezone.now() + dt.timedelta(minutes=10))
    assert rollups.rollup_verify()["lead_facts"] > 0
    rollups.rollup_refresh_full()
    assert_no_drift()


def test_incremental_refresh_rereads_the_overlap_window(world):
    """A row whose id is below the last watermark (its transaction committed late) is still picked up."""
    tip = make_tip(
        day=world["today"],
        channel="visit",
        sector=world["sectors"]["fishing"],
        region=world["regions"]["boai"],
    )
    state = RollupState.objects.get()
    marks = dict(state.checkpoints[-1]["marks"])
    now = timezone.now()
    # The last run (a minute ago) already saw ids past this tip's: it was still uncommitted then. The run
    # before, outside the overlap window, had not reached it.
    state.checkpoints = [
        {"at": (now - dt.timedelta(minutes=30)).isoformat(), "marks": {**marks, "tip": tip.pk - 1}},
        {"at": (now - dt.timedelta(minutes=1)).isoformat(), "marks": {**marks, "tip": tip.pk + 5}},
    ]
    state.save()
    assert tip_daily_rollup() != tip_daily_direct()
    rollups.rollup_refresh_incremental(now=now)
    assert tip_daily_rollup() == tip_daily_direct()
    assert tip_channel_rollup() == tip_channel_direct()


def test_start_marks_choose_the_newest_checkpoint_older_than_the_overlap():
    now = timezone.now()
    state = RollupState(
        name="x",
        checkpoints=[
            {"at": (now - dt.timedelta(minutes=9)).isoformat(), "marks": {"tip": 1}},
            {"at": (now - dt.timedelta(minutes=6)).isoformat(), "marks": {"tip": 2}},
            {"at": (now - dt.timedelta(minutes=2)).isoformat(), "marks": {"tip": 3}},
        ],
    )
    assert rollups._start_marks(state, now) == {"tip": 2}
    young = RollupState(name="y", checkpoints=[{"at": now.isoformat(), "marks": {"tip": 7}}])
    assert rollups._start_marks(young, now) == {"tip": 7}


@pytest.mark.django_db(transaction=True)
def test_refreshes_never_run_at_once(campaign_data):
    from django.db import connections

    rollups.rollup_refresh_full()
    # Another session holds the lock (a long full rebuild): an incremental run skips instead of waiting.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [rollups.LOCK_KEY])
            assert rollups.rollup_refresh_incremental().skipped
            cur.execute("SELECT pg_advisory_unlock(%s)", [rollups.LOCK_KEY])
    finally:
        other.close()
    assert not rollups.rollup_refresh_incremental().skipped


def test_no_state_means_a_full_rebuild(campaign_data):
    make_tip(day=timezone.localdate())
    result = rollups.rollup_refresh_incremental()
    assert result.mode == "full"
    assert tip_daily_rollup() == tip_daily_direct()


def test_management_command_rebuilds_and_verifies(world, capsys):
    TipDaily.objects.all().delete()
    call_command("dashboard_rollups", "--verify")
    assert "tip_daily" in capsys.readouterr().out
    call_command("dashboard_rollups", "--full", "--verify")
    out = capsys.readouterr().out
    assert "drift: none" in out
    assert tip_daily_rollup() == tip_daily_direct()
