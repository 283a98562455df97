"""GET /api/v1/tips/{id}/related/ and /api/v1/leads/{id}/related/, and POST link / dismiss."""

import pytest

from leads.linking.models import Dismissal, Link
from leads.models import Lead, LeadTip
from reports.models import Tip

from .helpers import make_lead, make_tip

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(campaign_data):
    a = make_tip(campaign_data, "工地土方被人垄断，电话137-0391-1234。", channel="online")
    b = make_tip(
        campaign_data, "车队霸占运输，电话１３７０３９１１２３４。", channel="letter", region="wuzhi"
    )
    return a, b


def test_tip_related_lists_items_with_kind_code_score_and_reasons(api_as, two):
    a, b = two
    r = api_as("office").get(f"/api/v1/tips/{a.pk}/related/")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    item = body["results"][0]
    assert item["kind"] == "tip" and item["id"] == b.pk
    assert item["tracking_code"] == b.tracking_code and item["number"] is None
    assert item["status"] == "suggested"
    assert 0 < item["score"] <= 1
    assert "同一电话 137****1234" in item["reasons"]
    assert item["url"] == f"/tips/{b.pk}/"


def test_lead_related_gives_numbers(api_as, campaign_data, two):
    a, _b = two
    lead = make_lead(campaign_data, "团伙强揽土方，电话13703911234。")
    r = api_as("office").get(f"/api/v1/leads/{lead.pk}/related/")
    assert r.status_code == 200
    assert {i["tracking_code"] for i in r.json()["results"] if i["kind"] == "tip"} >= {a.tracking_code}
    r = api_as("office").get(f"/api/v1/tips/{a.pk}/related/")
    lead_item = next(i for i in r.json()["results"] if i["kind"] == "lead")
    assert lead_item["number"] == lead.number and lead_item["tracking_code"] is None


def test_out_of_scope_and_missing_ids_are_the_same_404(api_as, two, units):
    a, b = two
    Tip.objects.filter(pk=b.pk).update(unit=units["housing"])
    client = api_as("liaison_housing")
    for url in (
        f"/api/v1/tips/{a.pk}/related/",
        "/api/v1/tips/999999/related/",
        "/api/v1/leads/999999/related/",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.json()["detail"]
    r = client.get(f"/api/v1/tips/{b.pk}/related/")
    assert r.status_code == 200
    assert r.json()["results"] == []  # the other tip belongs to no unit of the liaison


def test_post_link_puts_both_tips_under_one_lead(api_as, two):
    a, b = two
    r = api_as("office").post(
        f"/api/v1/tips/{a.pk}/related/link/", {"kind": "tip", "id": b.pk}, format="json"
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["outcome"] == "registered"
    lead = Lead.objects.get(pk=body["lead"])
    assert set(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True)) == {a.pk, b.pk}
    r = api_as("office").get(f"/api/v1/tips/{b.pk}/related/")
    statuses = {(i["kind"], i["id"]): i["status"] for i in r.json()["results"]}
    assert statuses[("tip", a.pk)] == "linked"


def test_post_link_with_bad_input_names_the_field_and_changes_nothing(api_as, two):
    a, _b = two
    client = api_as("office")
    r = client.post(f"/api/v1/tips/{a.pk}/related/link/", {"kind": "person", "id": "x"}, format="json")
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"kind", "id"}
    r = client.post(f"/api/v1/tips/{a.pk}/related/link/", {"kind": "tip", "id": 999999}, format="json")
    assert r.status_code == 400 and "id" in r.json()["errors"]
    assert not Link.objects.exists() and not Lead.objects.exists()


def test_only_the_office_may_link_or_dismiss(api_as, two):
    a, b = two
    for who in ("police", "leader"):
        for action in ("link", "dismiss"):
            r = api_as(who).post(
                f"/api/v1/tips/{a.pk}/related/{action}/", {"kind": "tip", "id": b.pk}, format="json"
            )
            assert r.status_code == 403
    assert not Link.objects.exists() and not Dismissal.objects.exists()


def test_post_dismiss_hides_the_suggestion(api_as, two):
    a, b = two
    client = api_as("office")
    r = client.post(
        f"/api/v1/tips/{a.pk}/related/dismiss/",
        {"kind": "tip", "id": b.pk, "reason": "同号不同人"},
        format="json",
    )
    assert r.status_code == 201
    body = client.get(f"/api/v1/tips/{b.pk}/related/").json()
    assert body["results"] == [] and body["hidden"] == 1


def test_related_endpoint_has_a_query_budget(api_as, campaign_data, django_assert_max_num_queries):
    subject = make_tip(campaign_data, "电话13703911234的人强揽土方。")
    for i in range(25):
        make_tip(campaign_data, f"电话13703911234，第{i}次举报。", region="wuzhi")
    client = api_as("office")
    with django_assert_max_num_queries(16):
        r = client.get(f"/api/v1/tips/{subject.pk}/related/")
    assert r.json()["count"] == 20  # MAX_ITEMS
