"""The practice in the API and on the pages: new fields, allowed actions per role, page access, query
budgets, and the demo data that shows every concept."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from .conftest import at
from .helpers import registered, sign_off, step

pytestmark = pytest.mark.django_db


def test_lead_json_carries_light_sign_for_and_sign_off(users, sectors, regions, api_as):
    lead = registered(users, sectors, regions, now=timezone.now())
    body = api_as("liaison_housing").get(f"/api/v1/leads/{lead.pk}/").json()
    a = body["assignments"][0]
    assert body["light"] == "green" and body["repeat_count"] == 0 and body["closure_signoff"] is None
    assert a["accept_deadline"] and a["send_back_until"] and a["sign_for_level"] == 0 and a["signoff"] is None
    assert body["allowed_actions"] == ["accept", "send_back"]
    step(users, lead, "accept", "liaison_housing", now=timezone.now())
    sign_off(users, lead, "liaison_housing", result="partly", findings="部分属实。")
    body = api_as("liaison_housing").get(f"/api/v1/leads/{lead.pk}/").json()
    a = body["assignments"][0]
    assert a["signoff"]["signed_by"] == "张海涛" and a["draft_result"] == "partly" and a["first_report_due"]
    assert "submit_result" in body["allowed_actions"] and "report_first" in body["allowed_actions"]
    assert api_as("unit_head_housing").get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == []
    signoffs = api_as("office").get(f"/api/v1/leads/{lead.pk}/signoffs/").json()
    assert [(s["kind"], s["unit"], s["signed_by"]) for s in signoffs] == [
        ("unit_result", "housing", "张海涛")
    ]


def test_transition_api_validates_new_actions(users, sectors, regions, api_as):
    lead = registered(users, sectors, regions, now=timezone.now())
    step(users, lead, "accept", "liaison_housing", now=timezone.now())
    api = api_as("liaison_housing")
    response = api.post(f"/api/v1/leads/{lead.pk}/transition/", {"action": "request_sign_off"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"result", "findings"}
    response = api.post(f"/api/v1/leads/{lead.pk}/transition/", {"action": "submit_result"}, format="json")
    assert response.status_code == 409 and "签字背书" in response.json()["detail"]
    response = api_as("unit_head_housing").post(
        f"/api/v1/leads/{lead.pk}/transition/", {"action": "sign_off"}, format="json"
    )
    assert response.status_code == 409 and response.json()["detail"] == "贵单位没有待签字背书的核查结果。"


def test_practice_pages_refuse_roles_that_may_not_see_them(client_as):
    for url, allowed, refused in (
        (reverse("leads:signoffs"), "unit_head_housing", "liaison_housing"),
        (reverse("leads:reviews"), "office", "liaison_housing"),
        (reverse("leads:callbacks"), "office", "leader"),
    ):
        assert client_as(allowed).get(url).status_code == 200, url
        assert client_as(refused).get(url).status_code == 403, url
    assert client_as("liaison_housing").post(reverse("leads:export")).status_code == 403
    assert client_as("office").get(reverse("leads:export")).status_code == 405


def test_empty_states(client_as):
    assert (
        "没有待签字背书的核查结果。"
        in client_as("unit_head_housing").get(reverse("leads:signoffs")).content.decode()
    )
    assert "没有需要评查的线索。" in client_as("office").get(reverse("leads:reviews")).content.decode()
    assert "本月还没有回访样本。" in client_as("office").get(reverse("leads:callbacks")).content.decode()


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


def test_practice_lists_keep_their_query_budget(users, sectors, regions, client_as, api_as):
    def grow(n):
        for _i in range(n):
            lead = registered(users, sectors, regions, now=timezone.now())
            step(users, lead, "accept", "liaison_housing", now=timezone.now())
            step(
                users,
                lead,
                "request_sign_off",
                "liaison_housing",
                now=timezone.now(),
                result="partly",
                findings="x",
            )

    pages = [
        ("unit_head_housing", reverse("leads:signoffs")),
        ("unit_head_housing", reverse("leads:unit_due") + "?light=green"),
        ("office", reverse("leads:reviews")),
        ("office", reverse("leads:list") + "?ordering=light"),
    ]

    def measure():
        out = []
        for who, url in pages:
            client = client_as(who)
            _count(client, url)  # the first request after a login also writes the session
            out.append(_count(client, url))
        return out

    grow(2)
    few = measure()
    grow(6)
    assert measure() == few
    api = api_as("office")
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/v1/leads/?light=green")
    assert len(ctx.captured_queries) <= 12


def test_home_panels_show_practice_counts(users, sectors, regions, client_as):
    lead = registered(users, sectors, regions, now=at("2026-03-02 09:00"))
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-02 10:00"))
    step(
        users,
        lead,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-03 10:00"),
        result="partly",
        findings="x",
    )
    page = client_as("unit_head_housing").get(reverse("home")).content.decode()
    assert "待签字背书" in page
    page = client_as("office").get(reverse("home")).content.decode()
    assert "红灯线索" in page and "查否线索待评查" in page


def test_the_demo_shows_every_concept(campaign_data):
    from campaign.models import OutboundMessage
    from leads.demo import seed_leads
    from leads.models import CallBack, Lead, LeadReview, ReportBack, SendBack, SignOff
    from reports.demo import seed_reports

    seed_reports()
    counts = seed_leads()
    assert counts["leads_created"] >= 25
    assert Lead.objects.filter(source__isnull=False).count() == Lead.objects.count()
    assert {"accepted", "refused", "pending"} <= set(SendBack.objects.values_list("decision", flat=True))
    assert {"first", "stage", "final"} <= set(ReportBack.objects.values_list("kind", flat=True))
    assert (
        SignOff.objects.filter(kind="unit_result").exists()
        and SignOff.objects.filter(kind="closure").exists()
    )
    assert Lead.objects.filter(
        assignments__signoff_requested_at__isnull=False, assignments__signoff__isnull=True
    ).exists()
    assert Lead.objects.filter(repeat_count__gt=0, review_pending=True).exists()
    assert LeadReview.objects.filter(status="confirmed").exists()
    assert CallBack.objects.exists()
    assert Lead.objects.filter(restricted=True).exists()
    assert OutboundMessage.objects.filter(channel="sms", body__contains="已办结").exists()
    assert Lead.objects.filter(assignments__sign_for_level__gt=0).exists()
    again = seed_leads()
    assert again["leads_created"] == 0 and again["callbacks_drawn"] == 0
