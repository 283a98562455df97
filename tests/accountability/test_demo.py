"""seed_demo's accountability seeder, and the backtracking report on the seeded leads (slow: full demo seeding)."""

import pytest

from accountability import backtracking
from accountability.models import Action, ActionKind, ActionStatus, Assessment, UnitTask
from campaign import demo
from leads.models import Assignment, Lead

pytestmark = pytest.mark.slow


def _seed_up_to(order: int) -> None:
    for o, _name, func in demo.seeders():
        if o <= order:
            func()


@pytest.mark.django_db
def test_seeder_creates_every_kind_in_several_states_and_is_idempotent(campaign_data):
    _seed_up_to(40)
    assert set(Action.objects.values_list("kind", flat=True)) == set(ActionKind.values)
    statuses = set(Action.objects.values_list("status", flat=True))
    assert {
        ActionStatus.DRAFT,
        ActionStatus.ISSUED,
        ActionStatus.RECTIFYING,
        ActionStatus.OVERDUE,
    } <= statuses
    assert {ActionStatus.CLOSED, ActionStatus.DISMISSED} <= statuses
    listed = Action.objects.get(kind=ActionKind.LISTED_SUPERVISION)
    assert listed.items.count() == 2 and all(i.reports.exists() for i in listed.items.all())
    assert UnitTask.objects.count() == 4 and Assessment.objects.exists()
    assert Assessment.objects.filter(unit__code="agriculture", vetoed=True, grade="fail").exists()
    count = Action.objects.count()
    _seed_up_to(40)
    assert Action.objects.count() == count


@pytest.mark.django_db
def test_backtracking_for_seeded_leads_shows_every_holder_and_overdue_span(campaign_data):
    _seed_up_to(39)
    leads = list(Lead.objects.filter(assignments__isnull=False).distinct())
    if not leads:
        pytest.skip("the leads seeder created no assigned leads")
    overdue_seen = False
    for lead in leads:
        bt = backtracking.lead_backtrack(lead)
        assert [h.assignment.pk for h in bt.holdings] == list(
            Assignment.objects.filter(lead=lead).order_by("assigned_at", "id").values_list("pk", flat=True)
        )
        for h in bt.holdings:
            stop = h.end or h.overdue_to
            if h.overdue_from:
                overdue_seen = True
                assert h.overdue_from == h.assignment.deadline and stop >= h.assignment.deadline
            else:
                assert (h.end or h.assignment.deadline) <= h.assignment.deadline or h.ongoing
        assert len(backtracking.lead_rows(bt)) == len(bt.holdings)
    assert overdue_seen, "the demo has overdue leads (DESIGN.md), so some holder must show an overdue span"
