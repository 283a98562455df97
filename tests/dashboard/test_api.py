"""GET /api/v1/dashboard/summary/: the pages' numbers and filters, as JSON."""

import pytest

from dashboard import selectors
from dashboard.filters import filters_from_params

pytestmark = pytest.mark.django_db
URL = "/api/v1/dashboard/summary/"


def params(world, **extra):
    return {
        "period": "custom",
        "date_from": world["d"](20).isoformat(),
        "date_to": world["today"].isoformat(),
        **extra,
    }


def test_summary_has_the_same_numbers_as_the_selectors(world, api_as):
    response = api_as("office_leader").get(URL, params(world))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"filters", "as_of", "overview", "channels", "matrix", "units"}
    filters, _form = filters_from_params(params(world), user=world["users"]["office_leader"])
    overview = selectors.overview(filters)
    assert body["overview"]["tips"]["period"]["count"] == overview["tips"]["period"]["count"] == 6
    assert body["overview"]["leads"]["found"] == 3
    assert body["overview"]["leads"]["closed_unsubstantiated"] == 1
    assert body["matrix"]["blind_count"] == 129
    assert body["filters"]["include_restricted"] is True
    housing = next(u for u in body["units"] if u["unit"] == "housing")
    assert housing["on_time_rate"] == 66.7


def test_summary_filters_and_sections(world, api_as):
    body = api_as("leader").get(URL, params(world, region="xiuwu", sections="overview,matrix")).json()
    assert set(body) == {"filters", "as_of", "overview", "matrix"}
    assert body["filters"]["region"] == "xiuwu"
    assert body["overview"]["tips"]["period"]["count"] == 2
    assert [r["code"] for r in body["matrix"]["regions"]] == ["xiuwu"]
    # Leaders do not count restricted leads (the leads app's visibility rule).
    assert body["filters"]["include_restricted"] is False


def test_bad_filters_answer_400_with_field_names(world, api_as):
    response = api_as("leader").get(
        URL,
        {"period": "custom", "date_from": "2026-13-01", "region": "atlantis", "sections": "overview,weather"},
    )
    assert response.status_code == 400
    body = response.json()
    assert {"date_from", "date_to", "region", "sections"} <= set(body["errors"])
    assert body["detail"].startswith("请检查以下字段")


@pytest.mark.parametrize("username", ["liaison_housing", "unit_head_housing", "police", "discipline"])
def test_other_roles_are_refused(world, api_as, username):
    assert api_as(username).get(URL).status_code == 403


def test_anonymous_is_refused(world, api_client):
    assert api_client.get(URL).status_code in (401, 403)


def test_summary_costs_a_bounded_number_of_queries(world, api_as, django_assert_max_num_queries):
    client = api_as("leader")
    client.get(URL)
    with django_assert_max_num_queries(25):
        assert client.get(URL).status_code == 200
