"""API: /api/v1/accountability/actions/ and /api/v1/assessments/, scoped by role; leaders read only."""

import datetime as dt

import pytest

from accountability import assessments
from accountability.models import Action, ActionKind, ActionStatus

URL = "/api/v1/accountability/actions/"


@pytest.fixture
def actions(issued, draft):
    return {
        "housing": issued(unit="housing"),
        "transport": issued(kind=ActionKind.NOTICE, unit="transport", items=[]),
        "draft_housing": draft(kind=ActionKind.TALK, unit="housing", items=[]),
    }


@pytest.mark.django_db
def test_office_and_leader_see_all(api_as, actions):
    for who in ("office", "leader"):
        data = api_as(who).get(URL).json()
        assert data["count"] == 3 and {"count", "next", "previous", "results"} <= set(data)


@pytest.mark.django_db
def test_liaison_sees_only_issued_actions_against_own_unit(api_as, actions):
    client = api_as("liaison_housing")
    data = client.get(URL).json()
    assert [r["id"] for r in data["results"]] == [actions["housing"].pk]
    assert client.get(f"{URL}{actions['transport'].pk}/").status_code == 404
    assert client.get(f"{URL}{actions['draft_housing'].pk}/").status_code == 404
    detail = client.get(f"{URL}{actions['housing'].pk}/").json()
    assert detail["allowed_actions"] == ["report"]
    assert detail["units"] == ["housing"] and len(detail["items"]) == 2


@pytest.mark.django_db
def test_police_intake_is_refused(api_as, actions):
    assert api_as("police").get(URL).status_code == 403


@pytest.mark.django_db
def test_leader_reads_but_cannot_create_or_transition(api_as, actions):
    client = api_as("leader")
    assert (
        client.post(URL, {"kind": "notice", "units": ["housing"], "reasons": "x"}, format="json").status_code
        == 403
    )
    r = client.post(f"{URL}{actions['draft_housing'].pk}/transition/", {"action": "issue"}, format="json")
    assert r.status_code == 403
    assert Action.objects.get(pk=actions["draft_housing"].pk).status == ActionStatus.DRAFT
    assert client.get(f"{URL}{actions['housing'].pk}/").json()["allowed_actions"] == []


@pytest.mark.django_db
def test_create_validates_with_field_names_and_changes_nothing(api_as, campaign_data):
    client = api_as("office")
    r = client.post(URL, {"kind": "scold", "units": [], "reasons": ""}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert {"kind", "units", "reasons"} <= set(body["errors"]) and body["detail"]
    r = client.post(URL, {"kind": "notice", "units": ["nowhere"], "reasons": "x"}, format="json")
    assert r.status_code == 400 and "units" in r.json()["errors"]
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_office_creates_issues_and_the_unit_reports_through_the_api(api_as, png):
    office = api_as("office")
    r = office.post(
        URL,
        {
            "kind": "listed_supervision",
            "units": ["housing"],
            "reasons": "线索超期",
            "items": [{"description": "重新核查", "deadline_days": 10}],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["status"] == "draft" and created["number"] == "" and "issue" in created["allowed_actions"]
    r = office.post(
        f"{URL}{created['id']}/transition/", {"action": "issue", "version": created["version"]}, format="json"
    )
    assert r.status_code == 200, r.content
    issued = r.json()
    assert issued["status"] == "issued" and issued["number"].startswith("焦扫黑办督〔")
    r = office.post(
        f"{URL}{created['id']}/transition/", {"action": "issue", "version": issued["version"]}, format="json"
    )
    assert r.status_code == 409
    liaison = api_as("liaison_housing")
    item = issued["items"][0]["id"]
    r = liaison.post(
        f"{URL}{created['id']}/transition/",
        {"action": "report", "item": item, "body": "已整改"},
        format="multipart",
    )
    assert r.status_code == 400 and "evidence" in r.json()["errors"]
    r = liaison.post(
        f"{URL}{created['id']}/transition/",
        {"action": "report", "item": item, "body": "已整改", "evidence": [png()]},
        format="multipart",
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "rectifying" and r.json()["items"][0]["reports"][0]["evidence"]


@pytest.mark.django_db
def test_action_list_query_count_does_not_grow_with_rows(api_as, issued, django_assert_max_num_queries):
    for _ in range(3):
        issued(kind=ActionKind.NOTICE, items=[])
    client = api_as("office")
    with django_assert_max_num_queries(8):
        client.get(URL)
    for _ in range(12):
        issued(kind=ActionKind.NOTICE, items=[])
    with django_assert_max_num_queries(8):
        assert client.get(URL).json()["count"] == 15


@pytest.mark.django_db
def test_assessments_scoped_and_filtered(api_as, campaign_data):
    assessments.assessments_compute(kind="quarter", day=dt.date(2026, 5, 1))
    assessments.assessments_compute(kind="year", day=dt.date(2026, 5, 1))
    leader = api_as("leader").get("/api/v1/assessments/?period_kind=quarter&year=2026&quarter=2").json()
    assert leader["count"] == assessments.assessed_units().count()
    assert [r["rank"] for r in leader["results"]] == sorted(r["rank"] for r in leader["results"])
    row = leader["results"][0]
    assert {"unit", "score", "grade", "rank", "vetoed", "metrics", "period"} <= set(row)
    mine = api_as("liaison_housing").get("/api/v1/assessments/").json()
    assert mine["count"] == 2 and {r["unit"] for r in mine["results"]} == {"housing"}
    assert api_as("police").get("/api/v1/assessments/").status_code == 403
    bad = api_as("leader").get("/api/v1/assessments/?quarter=9")
    assert bad.status_code == 400 and "quarter" in bad.json()["errors"]
