"""A small world with known numbers for the dashboard tests.

Rows are written directly (exact dates and states matter here; the workflows are the other apps'
business and have their own tests), then the rollups are rebuilt. Tests compare the dashboard with
counts computed here independently: hand-set expectations and plain ORM counts on the source tables.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaign.models import PublicityActivity
from dashboard import rollups
from dashboard.filters import DashboardFilters
from reports.models import Reward

from .factories import at, make_assignment, make_lead, make_tip


@pytest.fixture
def world(campaign_data):
    """Today is T (the real local date); the period under test is T-20 … T."""
    users, sectors, regions, units = (
        campaign_data["users"],
        campaign_data["sectors"],
        campaign_data["regions"],
        campaign_data["units"],
    )
    today = timezone.localdate()
    now = at(today, 12)
    d = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    C, TR, M = sectors["construction"], sectors["transport"], sectors["mining"]
    J, X, W = regions["jiefang"], regions["xiuwu"], regions["wuzhi"]

    tips = {
        "online_cj": make_tip(day=d(1), channel="online", sector=C, region=J),
        "online_cj2": make_tip(day=d(2), channel="online", sector=C, region=J),
        "letter_trx": make_tip(day=d(3), channel="letter", sector=TR, region=X),
        "phone_trx": make_tip(day=d(5), channel="phone", sector=TR, region=X),
        "phone_mw": make_tip(day=d(15), channel="phone", sector=M, region=W),
        "p12337_none": make_tip(day=d(0), channel="platform_12337"),
        "old_online": make_tip(day=d(30), channel="online", sector=C, region=J),
        "old_letter": make_tip(day=d(35), channel="letter", sector=TR, region=W),
        "ancient": make_tip(day=d(400), channel="visit", sector=M, region=J),
    }

    L = {}
    L["found_closed"] = make_lead(
        users=users, sector=C, region=J, day=d(18), status="closed", result="substantiated",
        disposition="criminal_case", tip=tips["online_cj"],
        verified_at=at(d(10)), closed_at=at(d(8)),
    )  # fmt: skip
    L["closed_unsubstantiated"] = make_lead(
        users=users, sector=C, region=J, day=d(17), status="closed", result="unsubstantiated",
        disposition="no_action", verified_at=at(d(9)), closed_at=at(d(6)),
    )  # fmt: skip
    L["partly_verified"] = make_lead(
        users=users, sector=TR, region=X, day=d(16), status="verified", result="partly",
        tip=tips["letter_trx"], verified_at=at(d(4)),
    )  # fmt: skip
    L["overdue"] = make_lead(
        users=users, sector=TR, region=X, day=d(14), status="verifying", tip=tips["phone_trx"],
        deadline=now - dt.timedelta(days=2),
    )  # fmt: skip
    L["not_accepted"] = make_lead(
        users=users, sector=M, region=W, day=d(12), status="assigned", deadline=now + dt.timedelta(days=10),
    )  # fmt: skip
    L["cannot_verify"] = make_lead(
        users=users, sector=C, region=X, day=d(11), status="closed", result="cannot_verify",
        disposition="no_action", verified_at=at(d(5)), closed_at=at(d(3)),
    )  # fmt: skip
    L["before_period"] = make_lead(
        users=users, sector=C, region=J, day=d(40), status="closed", result="substantiated",
        disposition="administrative_penalty", verified_at=at(d(30)), closed_at=at(d(28)),
    )  # fmt: skip
    L["restricted"] = make_lead(
        users=users, sector=M, region=J, day=d(10), status="verified", result="substantiated",
        restricted=True, verified_at=at(d(2)), creator="police",
    )  # fmt: skip
    L["registered"] = make_lead(users=users, sector=TR, region=W, day=d(1), status="registered")
    # A verifying lead that already has a result recorded on it must not count as found before review.
    L["verifying_with_result"] = make_lead(
        users=users, sector=TR, region=J, day=d(9), status="verifying", result="substantiated",
        deadline=now + dt.timedelta(days=5),
    )  # fmt: skip

    U = units
    A = {}
    A["housing_on_time"] = make_assignment(
        users=users, lead=L["found_closed"], unit=U["housing"], assigned=at(d(18), 11), deadline=at(d(5)),
        status="submitted", accepted_at=at(d(17)), submitted_at=at(d(10)), result="substantiated",
    )  # fmt: skip
    A["housing_late_returned"] = make_assignment(
        users=users, lead=L["closed_unsubstantiated"], unit=U["housing"], assigned=at(d(17), 11),
        deadline=at(d(12)), status="submitted", accepted_at=at(d(16)), submitted_at=at(d(9)),
        result="unsubstantiated", returned_count=1,
    )  # fmt: skip
    A["housing_cannot"] = make_assignment(
        users=users, lead=L["cannot_verify"], unit=U["housing"], assigned=at(d(11), 11), deadline=at(d(1)),
        status="submitted", accepted_at=at(d(10)), submitted_at=at(d(5)), result="cannot_verify",
    )  # fmt: skip
    A["transport_partly"] = make_assignment(
        users=users, lead=L["partly_verified"], unit=U["transport"], assigned=at(d(16), 11), deadline=at(d(2)),
        status="submitted", accepted_at=at(d(15)), submitted_at=at(d(4)), result="partly",
    )  # fmt: skip
    A["transport_overdue"] = make_assignment(
        users=users, lead=L["overdue"], unit=U["transport"], assigned=at(d(14), 11),
        deadline=now - dt.timedelta(days=2), status="accepted", accepted_at=at(d(13)),
    )  # fmt: skip
    A["nr_not_accepted"] = make_assignment(
        users=users, lead=L["not_accepted"], unit=U["natural_resources"], assigned=at(d(12), 11),
        deadline=now + dt.timedelta(days=10),
    )  # fmt: skip
    A["nr_restricted"] = make_assignment(
        users=users, lead=L["restricted"], unit=U["natural_resources"], assigned=at(d(10), 11), deadline=at(d(1)),
        status="submitted", accepted_at=at(d(9)), submitted_at=at(d(2)), result="substantiated",
    )  # fmt: skip
    A["housing_withdrawn"] = make_assignment(
        users=users, lead=L["overdue"], unit=U["housing"], assigned=at(d(14), 10), deadline=at(d(3)),
        status="withdrawn",
    )  # fmt: skip
    A["market_verifying"] = make_assignment(
        users=users, lead=L["verifying_with_result"], unit=U["market"], assigned=at(d(9), 11),
        deadline=now + dt.timedelta(days=5), status="accepted", accepted_at=at(d(8)),
    )  # fmt: skip

    for day, reach in ((d(3), 100), (d(6), 250), (d(60), 999)):
        PublicityActivity.objects.create(
            unit=U["housing"], held_on=day, kind="meeting", reach=reach, created_by=users["office"]
        )
    PublicityActivity.objects.create(
        unit=U["transport"], held_on=d(2), kind="poster", reach=40, created_by=users["office"]
    )

    def reward(tip, status, amount, paid_on=None):
        return Reward.objects.create(
            tip=tip, first_tip=tip, status=status, amount=Decimal(amount), basis="general",
            lead_result="substantiated", proposed_by=users["office"], paid_on=paid_on,
        )  # fmt: skip

    reward(tips["online_cj"], "paid", "5000.00", paid_on=d(4))
    reward(tips["letter_trx"], "paid", "3000.00", paid_on=d(50))
    reward(tips["phone_trx"], "approved", "2000.00")

    rollups.rollup_refresh_full()
    period = DashboardFilters(date_from=d(20), date_to=today, today=today, label="test")
    return {
        "users": users,
        "sectors": sectors,
        "regions": regions,
        "units": units,
        "tips": tips,
        "leads": L,
        "assignments": A,
        "today": today,
        "now": now,
        "period": period,
        "d": d,
    }
