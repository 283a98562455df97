"""Dashboard numbers against counts computed independently on the fixture (tests/dashboard/conftest.py)."""

import dataclasses
import datetime as dt
import statistics
from decimal import Decimal

import pytest
from django.db.models import Q

from dashboard import selectors
from dashboard.filters import DashboardFilters
from leads.models import Lead
from reports.models import Tip

pytestmark = pytest.mark.django_db

FOUND = Q(status__in=["verified", "closed"], result__in=["substantiated", "partly"])


def tips_between(start, end, **filters):
    return Tip.objects.filter(received_at__date__range=(start, end), **filters).count()


def leads_between(start, end):
    return Lead.objects.filter(created_at__date__range=(start, end))


def test_overview_counts_equal_direct_counts(world):
    f, now = world["period"], world["now"]
    data = selectors.overview(f, now=now)
    start, end = f.date_from, f.date_to

    assert data["tips"]["period"]["count"] == tips_between(start, end) == 6
    previous = f.previous()
    assert data["tips"]["period"]["previous"] == tips_between(previous.date_from, previous.date_to) == 2

    cohort = leads_between(start, end)
    leads = data["leads"]
    assert leads["registered"] == cohort.count() == 9
    assert leads["found"] == cohort.filter(FOUND).count() == 3  # found_closed, partly, restricted
    assert (
        leads["concluded"] == cohort.filter(status__in=["verified", "closed"]).exclude(result="").count() == 5
    )
    assert leads["found_share"] == round(3 * 100 / 5, 1)
    assert leads["closed_unsubstantiated"] == 1
    assert leads["results"] == {"substantiated": 2, "partly": 1, "unsubstantiated": 1, "cannot_verify": 1}
    assert leads["pending"] == 4
    open_now = Lead.objects.exclude(status="closed")
    assert leads["open"] == open_now.count() == 6
    assert leads["overdue"] == open_now.filter(deadline__lt=now).count() == 1
    assert leads["not_accepted"] == 1
    assert data["rewards"] == {"count": 1, "amount": Decimal("5000.00")}


def test_closed_unsubstantiated_is_concluded_but_never_found(world):
    f = world["period"]
    sectors, regions = world["sectors"], world["regions"]
    cell = dataclasses.replace(f, sector_id=sectors["construction"].pk, region_id=regions["jiefang"].pk)
    data = selectors.overview(cell, now=world["now"])
    # Two leads in the cell: one closed as a criminal case (found), one closed as unsubstantiated.
    assert data["leads"]["registered"] == 2
    assert data["leads"]["concluded"] == 2
    assert data["leads"]["found"] == 1
    matrix = selectors.matrix(cell)
    assert matrix["found"] == 1 and matrix["registered"] == 2


def test_verifying_lead_with_a_result_is_not_found_before_review(world):
    f = world["period"]
    cell = dataclasses.replace(
        f, sector_id=world["sectors"]["transport"].pk, region_id=world["regions"]["jiefang"].pk
    )
    m = selectors.matrix(cell)
    assert m["registered"] == 1 and m["found"] == 0
    assert m["blind_cells"] == [
        {
            "sector": "transport",
            "sector_name": "交通运输",
            "region": "jiefang",
            "region_name": "解放区",
            "empty": False,
            "registered": 1,
        }
    ]


def test_matrix_found_cells_and_blind_spots(world):
    f = world["period"]
    m = selectors.matrix(f)
    found = {(r["sector"], c["region"]): c["found"] for r in m["rows"] for c in r["cells"] if c["found"]}
    assert found == {("construction", "jiefang"): 1, ("transport", "xiuwu"): 1, ("mining", "jiefang"): 1}
    # Every county column, every sector row (no lead at city level, so no 市本级 column).
    assert [r["code"] for r in m["regions"]][:3] == ["jiefang", "zhongzhan", "macun"]
    assert len(m["regions"]) == 11 and len(m["rows"]) == 12
    assert m["cell_count"] == 132
    assert m["blind_count"] == 132 - 3
    blind = {(c["sector"], c["region"]): c["empty"] for c in m["blind_cells"]}
    # Cells with leads but nothing found are blind spots too, told apart from empty ones.
    assert blind[("construction", "xiuwu")] is False  # cannot verify
    assert blind[("mining", "wuzhi")] is False  # not yet signed for
    assert blind[("transport", "wuzhi")] is False  # just registered
    assert blind[("fishing", "macun")] is True
    assert ("construction", "jiefang") not in blind
    # Independent check of the blind-cell count: cells minus cells holding a found lead.
    found_cells = set(
        leads_between(f.date_from, f.date_to).filter(FOUND).values_list("sector__code", "region__code")
    )
    assert m["blind_count"] == 132 - len(found_cells)
    assert m["found"] == 3 and m["registered"] == 9


def test_sectors_and_units_without_case_are_flagged(world):
    m = selectors.matrix(world["period"])
    sectors = {s["code"]: s["registered"] for s in m["sectors_without_case"]}
    assert "construction" not in sectors and "transport" not in sectors and "mining" not in sectors
    assert sectors["fishing"] == 0
    assert len(sectors) == 12 - 3
    units = {u["code"]: u for u in m["units_without_case"]}
    assert "housing" not in units and "transport" not in units and "natural_resources" not in units
    assert units["market"]["assignments"] == 1 and units["market"]["none_handled"] is False
    assert units["police"]["none_handled"] is True
    assert "office" not in units  # the office itself is not expected to verify


def test_restricted_leads_drop_out_for_viewers_who_may_not_see_them(world):
    f = dataclasses.replace(world["period"], include_restricted=False)
    data = selectors.overview(f, now=world["now"])
    assert data["leads"]["registered"] == 8
    assert data["leads"]["found"] == 2
    m = selectors.matrix(f)
    assert ("mining", "jiefang") in {(c["sector"], c["region"]) for c in m["blind_cells"]}
    nr = next(u for u in selectors.units(f, now=world["now"])["units"] if u["unit"] == "natural_resources")
    assert nr["assignments"] == 1 and nr["found"] == 0


def test_filters_restrict_every_number(world):
    f, now = world["period"], world["now"]
    regions, sectors = world["regions"], world["sectors"]
    by_region = dataclasses.replace(f, region_id=regions["xiuwu"].pk)
    data = selectors.overview(by_region, now=now)
    assert (
        data["tips"]["period"]["count"] == tips_between(f.date_from, f.date_to, region=regions["xiuwu"]) == 2
    )
    assert data["leads"]["registered"] == 3
    assert data["leads"]["overdue"] == 1
    assert [r["code"] for r in selectors.matrix(by_region)["regions"]] == ["xiuwu"]

    by_sector = dataclasses.replace(f, sector_id=sectors["mining"].pk)
    data = selectors.overview(by_sector, now=now)
    assert data["tips"]["period"]["count"] == 1
    assert data["leads"]["not_accepted"] == 1
    assert [r["sector"] for r in selectors.matrix(by_sector)["rows"]] == ["mining"]

    by_channel = dataclasses.replace(f, channel="phone")
    data = selectors.overview(by_channel, now=now)
    assert data["tips"]["period"]["count"] == tips_between(f.date_from, f.date_to, channel="phone") == 2
    # Leads follow the channel of their first tip; the overdue lead came by phone.
    assert data["leads"]["registered"] == 1
    assert data["leads"]["overdue"] == 1
    assert data["leads"]["found"] == 0
    assert data["rewards"]["count"] == 0


def test_previous_period_of_a_running_period_has_the_same_length(world):
    today = world["today"]
    f = DashboardFilters(
        date_from=today - dt.timedelta(days=2), date_to=today + dt.timedelta(days=4), today=today
    )
    prev = f.previous()
    # Seven days, three of them run so far: compared with the first three days of the seven before.
    assert prev.date_from == today - dt.timedelta(days=9)
    assert prev.date_to == today - dt.timedelta(days=7)


def test_week_and_month_figures_use_todays_week_and_month(world):
    data = selectors.overview(world["period"], now=world["now"])
    week = data["tips"]["week"]
    assert week["from"].weekday() == 0 and week["from"] <= world["today"] <= week["to"]
    assert week["count"] == tips_between(week["from"], world["today"])
    month = data["tips"]["month"]
    assert month["from"].day == 1
    assert month["count"] == tips_between(month["from"], world["today"])


def test_stage_medians_equal_medians_computed_in_python(world):
    data = selectors.overview(world["period"], now=world["now"])
    cohort = list(
        leads_between(world["period"].date_from, world["period"].date_to).prefetch_related("assignments")
    )

    def days(a, b):
        return (a - b).total_seconds() / 86400

    expected = {"assign": [], "accept": [], "verify": [], "close": []}
    for lead in cohort:
        assigned = [a.assigned_at for a in lead.assignments.all()]
        accepted = [a.accepted_at for a in lead.assignments.all() if a.accepted_at]
        first_assigned = min(assigned) if assigned else None
        first_accepted = min(accepted) if accepted else None
        for key, end, begin in (
            ("assign", first_assigned, lead.created_at),
            ("accept", first_accepted, first_assigned),
            ("verify", lead.verified_at, first_accepted),
            ("close", lead.closed_at, lead.verified_at),
        ):
            if end and begin and end >= begin:
                expected[key].append(days(end, begin))
    for stage in data["stages"]:
        values = expected[stage["key"]]
        assert stage["n"] == len(values)
        assert stage["median_days"] == round(statistics.median(values), 1)


def test_channel_trend_counts_and_online_share(world):
    f = world["period"]
    data = selectors.channels(f)
    assert data["bucket"] == "day"
    assert len(data["buckets"]) == 21
    series = {s["code"]: s["total"] for s in data["series"]}
    assert series["online"] == 2 and series["letter"] == 1 and series["phone"] == 2
    assert series["platform_12337"] == 1
    assert data["total"] == sum(series.values()) == 6
    assert data["online_total_share"] == 50.0  # online + 12337 platform
    assert sum(data["totals"]) == data["total"]
    last = data["table"][-1]
    assert last["total"] == 1 and last["online_share"] == 100.0
    long = DashboardFilters(
        date_from=world["today"] - dt.timedelta(days=500), date_to=world["today"], today=world["today"]
    )
    assert selectors.channels(long)["bucket"] == "month"
    assert selectors.channels(long)["total"] == Tip.objects.count()


def test_unit_ranking(world):
    data = selectors.units(world["period"], now=world["now"])
    rows = {u["unit"]: u for u in data["units"]}
    housing = rows["housing"]
    # Withdrawn (reassigned) work is not the unit's: three assignments, all submitted, one late.
    assert housing["assignments"] == 3
    assert housing["submitted"] == 3 and housing["on_time"] == 2
    assert housing["on_time_rate"] == 66.7
    assert housing["returned"] == 1 and housing["returned_share"] == 33.3
    assert housing["found"] == 1
    assert housing["publicity"] == 2 and housing["publicity_reach"] == 350
    transport = rows["transport"]
    assert transport["assignments"] == 2 and transport["overdue"] == 1 and transport["due"] == 2
    assert transport["on_time_rate"] == 50.0
    assert transport["open"] == 1
    nr = rows["natural_resources"]
    assert nr["not_accepted"] == 1 and nr["on_time_rate"] == 100.0
    assert rows["market"]["on_time_rate"] is None and rows["market"]["rank"] is None
    ranked = [u["unit"] for u in data["units"] if u["rank"]]
    assert ranked == ["natural_resources", "housing", "transport"]


def test_unit_drill_down_lists_the_units_leads_the_viewer_may_see(world):
    f, users, units = world["period"], world["users"], world["units"]
    qs = selectors.unit_leads(user=users["office"], unit=units["housing"], filters=f)
    assert {lead.pk for lead in qs} == {
        world["leads"]["found_closed"].pk,
        world["leads"]["closed_unsubstantiated"].pk,
        world["leads"]["cannot_verify"].pk,
    }
    # The restricted lead is natural_resources': an office user who is not an office leader never sees it.
    nr = selectors.unit_leads(user=users["office"], unit=units["natural_resources"], filters=f)
    assert world["leads"]["restricted"].pk not in {lead.pk for lead in nr}
    nr_leader = selectors.unit_leads(user=users["office_leader"], unit=units["natural_resources"], filters=f)
    assert world["leads"]["restricted"].pk in {lead.pk for lead in nr_leader}
    overdue = selectors.unit_leads(
        user=users["leader"], unit=units["transport"], filters=f, state="overdue", now=world["now"]
    )
    assert [lead.pk for lead in overdue] == [world["leads"]["overdue"].pk]


def test_overview_and_matrix_cost_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    f = world["period"]
    # (+2 the first time the working-day calendar is read into its in-process cache)
    with django_assert_max_num_queries(10):
        selectors.overview(f, now=world["now"])
    with django_assert_max_num_queries(6):
        selectors.matrix(f)
    with django_assert_max_num_queries(6):
        selectors.units(f, now=world["now"])
    with django_assert_max_num_queries(2):
        selectors.channels(f)
