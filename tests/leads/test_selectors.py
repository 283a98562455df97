"""`lead_list_visible_to`: the one place that decides who sees which lead."""

import pytest
from django.http import Http404

from campaign.models import User
from campaign.roles import Role
from leads.selectors import lead_get_visible, lead_list_visible_to, traffic_light, workdays_left

from .factories import act, build, register

pytestmark = pytest.mark.django_db


def _ids(user):
    return set(lead_list_visible_to(user).values_list("pk", flat=True))


def test_unit_roles_see_only_leads_with_an_assignment_to_their_unit(users, sectors, regions):
    housing = register(users, sectors, regions, units=["housing"])
    transport = register(users, sectors, regions, units=["transport"], sector="transport", region="macun")
    shared = register(users, sectors, regions, units=["housing", "transport"])
    unassigned = register(users, sectors, regions)
    assert _ids(users["liaison_housing"]) == {housing.pk, shared.pk}
    assert _ids(users["unit_head_housing"]) == {housing.pk, shared.pk}
    assert _ids(users["liaison_transport"]) == {transport.pk, shared.pk}
    assert (
        _ids(users["office"]) == _ids(users["leader"]) == {housing.pk, transport.pk, shared.pk, unassigned.pk}
    )
    with pytest.raises(Http404):
        lead_get_visible(users["liaison_housing"], transport.pk)


def test_a_unit_that_sent_a_lead_back_still_sees_its_history(users, sectors, regions):
    lead = register(users, sectors, regions, units=["transport"])
    act(users, lead, "send_back", "liaison_transport", note="非本单位职责")
    act(users, lead, "reassign", "office", units=["police"])
    assert lead.pk in _ids(users["liaison_transport"])


def test_police_see_what_they_registered_and_discipline_what_was_referred(users, sectors, regions):
    mine = register(users, sectors, regions, actor="police")
    office = register(users, sectors, regions)
    assert _ids(users["police"]) == {mine.pk}
    referred = build("verified", users, sectors, regions)
    assert _ids(users["discipline"]) == set()
    act(users, referred, "close", "office", disposition="discipline_referral")
    assert _ids(users["discipline"]) == {referred.pk}
    assert office.pk not in _ids(users["discipline"])


def test_restricted_leads_are_seen_only_by_their_circle(users, units, sectors, regions):
    other_office = User.objects.create(username="office2", role=Role.OFFICE, unit=units["office"])
    lead = register(users, sectors, regions, units=["housing"], actor="office", restricted=True)
    assert lead.pk in _ids(users["office"])  # the creator
    assert lead.pk in _ids(users["office_leader"])  # office leaders
    assert lead.pk in _ids(users["liaison_housing"])  # its handlers
    assert lead.pk in _ids(users["discipline"])
    assert lead.pk not in _ids(other_office)
    assert lead.pk not in _ids(users["leader"]) and lead.pk not in _ids(users["liaison_transport"])
    with pytest.raises(Http404):
        lead_get_visible(other_office, lead.pk)


def test_inactive_or_anonymous_users_see_nothing(users, sectors, regions):
    register(users, sectors, regions, units=["housing"])
    from django.contrib.auth.models import AnonymousUser

    assert not lead_list_visible_to(AnonymousUser()).exists()
    user = users["office"]
    user.is_active = False
    assert not lead_list_visible_to(user).exists()


def test_traffic_light_by_working_days_left(campaign_data):
    import datetime as dt

    from django.utils import timezone

    now = timezone.make_aware(dt.datetime(2026, 3, 2, 10))  # a Monday
    assert traffic_light(timezone.make_aware(dt.datetime(2026, 3, 30, 23)), now) == "green"
    assert traffic_light(timezone.make_aware(dt.datetime(2026, 3, 6, 23)), now) == "yellow"  # 4 left
    assert traffic_light(timezone.make_aware(dt.datetime(2026, 3, 3, 23)), now) == "red"
    assert traffic_light(timezone.make_aware(dt.datetime(2026, 3, 1, 23)), now) == "black"
    assert workdays_left(timezone.make_aware(dt.datetime(2026, 3, 9, 23)), now) == 5
