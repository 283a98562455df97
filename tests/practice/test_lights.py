"""红黄灯: green / yellow / red by working time left (thresholds configurable), black when overdue; every
list filters and sorts by light with ranges on the indexed deadline; counts per unit for dashboards."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaign import workdays
from leads.filters import LeadFilter
from leads.models import Assignment, Lead
from leads.selectors import LIGHTS, lead_list_visible_to, light_counts, light_q, traffic_light

from .conftest import at
from .helpers import assignment_of, registered, step

pytestmark = pytest.mark.django_db


def test_lights_by_working_days_left(users):
    now = at("2026-03-02 10:00")  # Monday
    assert traffic_light(at("2026-03-02 09:00"), now) == "black"  # passed: overdue
    assert traffic_light(at("2026-03-02 23:59:59"), now) == "red"  # due today
    assert traffic_light(at("2026-03-04 23:59:59"), now) == "red"  # 2 working days left
    assert traffic_light(at("2026-03-05 23:59:59"), now) == "yellow"  # 3
    assert traffic_light(at("2026-03-09 23:59:59"), now) == "yellow"  # 5 (the weekend does not count)
    assert traffic_light(at("2026-03-10 23:59:59"), now) == "green"  # 6


def test_thresholds_are_settings(users, settings):
    settings.LEADS = {"LIGHT_RED_WORKDAYS": 0, "LIGHT_YELLOW_WORKDAYS": 1}
    now = at("2026-03-09 10:00")
    assert traffic_light(at("2026-03-09 23:59:59"), now) == "red"
    assert traffic_light(at("2026-03-10 23:59:59"), now) == "yellow"
    assert traffic_light(at("2026-03-11 23:59:59"), now) == "green"


def test_the_sql_ranges_agree_with_the_python_light_for_every_day(users, sectors, regions):
    """Each light's filter finds exactly the rows that show that light, across weekends and a holiday."""
    lead = registered(users, sectors, regions, now=at("2026-09-20 09:00"))
    a = assignment_of(lead, "housing")
    now = at("2026-09-24 15:00")  # Thursday before the Mid-Autumn and National Day holidays
    for offset in range(-3, 30):
        for hour in (0, 14, 23):
            deadline = now.replace(hour=hour, minute=0) + dt.timedelta(days=offset)
            Assignment.objects.filter(pk=a.pk).update(deadline=deadline)
            found = [
                light
                for light in LIGHTS
                if Assignment.objects.filter(pk=a.pk).filter(light_q(light, now)).exists()
            ]
            assert found == [traffic_light(deadline, now)], (deadline, found)


def test_working_days_left_match_the_bounds(users):
    now = at("2026-09-24 15:00")
    for offset in range(0, 25):
        deadline = at("2026-09-24 23:59:59") + dt.timedelta(days=offset)
        left = workdays.workdays_between(now, deadline)
        expected = "red" if left <= 2 else "yellow" if left <= 5 else "green"
        assert traffic_light(deadline, now) == expected, (deadline, left)


def _leads_with_deadlines(users, sectors, regions, deadlines):
    leads = []
    for deadline in deadlines:
        lead = registered(users, sectors, regions, now=timezone.now())
        Assignment.objects.filter(lead=lead).update(deadline=deadline)
        Lead.objects.filter(pk=lead.pk).update(deadline=deadline)
        leads.append(lead)
    return leads


def test_the_register_filters_and_sorts_by_light(users, sectors, regions, client_as, api_as):
    now = timezone.now()
    soon = workdays.add_workdays(now, 1)
    later = workdays.add_workdays(now, 4)
    far = workdays.add_workdays(now, 15)
    overdue = now - dt.timedelta(days=2)
    red, yellow, green, black = _leads_with_deadlines(users, sectors, regions, [soon, later, far, overdue])
    body = api_as("office").get("/api/v1/leads/?light=red").json()
    assert [r["number"] for r in body["results"]] == [red.number]
    assert body["results"][0]["light"] == "red"
    body = api_as("office").get("/api/v1/leads/?light=black&light=yellow").json()
    assert {r["number"] for r in body["results"]} == {black.number, yellow.number}
    body = api_as("office").get("/api/v1/leads/?ordering=light").json()
    assert [r["number"] for r in body["results"]] == [black.number, red.number, yellow.number, green.number]
    page = client_as("office").get(reverse("leads:list") + "?light=green").content.decode()
    assert green.number in page and red.number not in page


def test_the_light_filter_is_ranges_on_the_indexed_deadline(users, sectors, regions):
    _leads_with_deadlines(users, sectors, regions, [timezone.now() + dt.timedelta(days=1)])
    qs = LeadFilter({"light": ["red", "yellow"]}, queryset=lead_list_visible_to(users["office"])).qs
    sql = str(qs.query)
    assert '"leads_lead"."deadline" >=' in sql and '"leads_lead"."deadline" <' in sql
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            "EXPLAIN " + str(qs.order_by().values("id").query.sql_with_params()[0]),
            qs.order_by().values("id").query.sql_with_params()[1],
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "lead_open_deadline" in plan, plan


def test_the_liaison_workspace_filters_and_counts_by_light(users, sectors, regions, client_as):
    now = timezone.now()
    a, b = _leads_with_deadlines(
        users, sectors, regions, [workdays.add_workdays(now, 1), now - dt.timedelta(days=1)]
    )
    page = client_as("liaison_housing").get(reverse("leads:workspace") + "?light=black").content.decode()
    assert b.number in page and a.number not in page
    assert 'data-light="black"' in page
    page = (
        client_as("liaison_housing").get(reverse("leads:workspace") + "?sort=-assigned_at").content.decode()
    )
    assert page.index(b.number) < page.index(a.number)


def test_light_counts_per_unit(users, sectors, regions, units):
    now = timezone.now()
    _leads_with_deadlines(
        users,
        sectors,
        regions,
        [workdays.add_workdays(now, 1), workdays.add_workdays(now, 1), now - dt.timedelta(hours=1)],
    )
    lead = registered(users, sectors, regions, now=now, units=["transport"])
    step(users, lead, "accept", "liaison_transport", now=now)
    counts = light_counts()
    assert counts[units["housing"].pk] == {"open": 3, "black": 1, "red": 2, "yellow": 0, "green": 0}
    assert counts[units["transport"].pk]["green"] == 1
    assert set(light_counts([units["transport"]])) == {units["transport"].pk}


def test_list_queries_do_not_grow_with_rows(users, sectors, regions, client_as):
    now = timezone.now()
    _leads_with_deadlines(users, sectors, regions, [now + dt.timedelta(days=i) for i in range(3)])
    client = client_as("office")
    url = reverse("leads:list") + "?light=red&light=green&ordering=light"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _leads_with_deadlines(users, sectors, regions, [now + dt.timedelta(days=i) for i in range(12)])
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
