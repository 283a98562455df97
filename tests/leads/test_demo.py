"""Demo data and the load generator for leads."""

import pytest
from django.db.models import Count
from django.utils import timezone

from leads.demo import load_leads, seed_leads
from leads.models import Assignment, Disposition, Lead, LeadEvent, LeadStatus, LeadTip, RoutingRule

pytestmark = pytest.mark.django_db


def test_seed_covers_every_status_unit_mix_disposition_and_overdue(campaign_data):
    first = seed_leads()
    assert first["leads_created"] >= 15
    assert set(Lead.objects.values_list("status", flat=True)) == set(LeadStatus.values)
    closed = set(Lead.objects.filter(status="closed").values_list("disposition", flat=True))
    assert closed == set(Disposition.values)
    units = Lead.objects.annotate(n=Count("assignments")).prefetch_related("assignments__unit")
    sets = [{a.unit.code for a in lead.assignments.all()} for lead in units]
    assert {"transport"} in sets  # transport only
    assert any("housing" in s and len(s) > 1 for s in sets)  # shared by housing and another unit
    now = timezone.now()
    assert Assignment.objects.filter(status__in=["assigned", "accepted"], deadline__lt=now).exists()
    assert Lead.objects.filter(restricted=True).exists()
    assert Lead.objects.filter(discipline_referred=True).exists()
    assert Assignment.objects.filter(status="sent_back").exists()
    assert Assignment.objects.filter(returned_count__gt=0).exists()
    assert RoutingRule.objects.count() >= 10
    # Histories were played through the workflow, with dates in the past.
    assert LeadEvent.objects.filter(at__lt=now - timezone.timedelta(days=30)).exists()


def test_seed_is_idempotent(campaign_data):
    seed_leads()
    counts = (
        Lead.objects.count(),
        Assignment.objects.count(),
        LeadEvent.objects.count(),
        RoutingRule.objects.count(),
    )
    again = seed_leads()
    assert again["leads_created"] == 0 and again["rules"] == 0
    assert counts == (
        Lead.objects.count(),
        Assignment.objects.count(),
        LeadEvent.objects.count(),
        RoutingRule.objects.count(),
    )


def test_load_generator_makes_leads_and_assignments_in_proportion(campaign_data):
    result = load_leads(tips=500)
    assert result["leads"] == 100 == Lead.objects.count()
    assert result["assignments"] == 150 == Assignment.objects.count()
    numbers = list(Lead.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    # Consistent with the workflow: closed leads have a disposition, verified ones only results.
    assert not Lead.objects.filter(status="closed", disposition="").exists()
    assert not Assignment.objects.filter(status="submitted", result="").exists()
    for lead in Lead.objects.filter(status="assigned").prefetch_related("assignments")[:20]:
        assert {a.status for a in lead.assignments.all()} == {"assigned"}
    # A live registration afterwards continues the numbering.
    from leads.services import lead_numbers_reserve

    year = timezone.localdate().year
    taken = {int(n[-6:]) for n in Lead.objects.filter(year=year).values_list("number", flat=True)}
    nxt = int(lead_numbers_reserve(year=year)[0][-6:])
    assert nxt not in taken and nxt == max(taken | {0}) + 1
    assert LeadTip.objects.count() <= 100
