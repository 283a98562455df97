"""回访: each month a random sample of closed leads from named informants; the office records 满意 /
基本满意 / 不满意 and notes; unsatisfied leads go to review; satisfaction per unit feeds assessments."""

import datetime as dt
import random

import pytest
from django.urls import reverse

from leads.models import CallBack, LeadReview, LeadTip
from leads.practice import callback_draw, callback_record, callback_sample_size
from leads.selectors import satisfaction_by_unit
from leads.workflow import TransitionError
from reports import crypto

from .conftest import at
from .helpers import make_tip, registered, sign_off, step

pytestmark = pytest.mark.django_db


def _closed_lead(users, sectors, regions, *, closed_on: str, named=True, restricted=False, unit="housing"):
    liaison = {"housing": "liaison_housing", "transport": "liaison_transport"}[unit]
    start = at(f"{closed_on} 09:00") - dt.timedelta(days=10)
    lead = registered(users, sectors, regions, now=start, units=[unit], restricted=restricted)
    identity = {"name": "陈立华", "phone": "13903917788"} if named else {}
    tip = make_tip(
        anonymous=not named,
        identity_encrypted=crypto.encrypt_identity(identity) if named else "",
        received_at=start - dt.timedelta(days=1),
    )
    LeadTip.objects.create(lead=lead, tip=tip)
    step(users, lead, "accept", liaison, now=start)
    sign_off(users, lead, liaison, result="substantiated", findings="属实。")
    step(users, lead, "submit_result", liaison, now=start + dt.timedelta(days=5))
    return step(
        users, lead, "close", "office", now=at(f"{closed_on} 10:00"), disposition="administrative_penalty"
    )


def test_sample_size_follows_rate_minimum_and_maximum(settings):
    assert [callback_sample_size(n) for n in (0, 3, 10, 100, 1000)] == [0, 3, 5, 20, 100]
    settings.LEADS = {"CALLBACK_RATE": 0.5, "CALLBACK_MIN": 1, "CALLBACK_MAX": 10}
    assert [callback_sample_size(n) for n in (1, 4, 100)] == [1, 2, 10]


def test_the_monthly_draw_takes_closed_leads_from_named_informants_once(users, sectors, regions):
    named = [_closed_lead(users, sectors, regions, closed_on=f"2026-03-{d:02d}") for d in (2, 10, 20, 31)]
    _closed_lead(users, sectors, regions, closed_on="2026-03-05", named=False)
    _closed_lead(users, sectors, regions, closed_on="2026-03-06", restricted=True)
    _closed_lead(users, sectors, regions, closed_on="2026-04-01")  # next month
    assert callback_draw(month=dt.date(2026, 3, 15), rng=random.Random(1)) == 4
    assert {c.lead_id for c in CallBack.objects.all()} == {lead.pk for lead in named}
    assert set(CallBack.objects.values_list("month", flat=True)) == {dt.date(2026, 3, 1)}
    assert callback_draw(month=dt.date(2026, 3, 1)) == 0  # once a month
    assert CallBack.objects.count() == 4


def test_the_draw_is_a_random_sample(users, sectors, regions, settings):
    settings.LEADS = {"CALLBACK_RATE": 0.5, "CALLBACK_MIN": 1, "CALLBACK_MAX": 10}
    for d in range(1, 7):
        _closed_lead(users, sectors, regions, closed_on=f"2026-03-{d:02d}")
    assert callback_draw(month=dt.date(2026, 3, 1), rng=random.Random(7)) == 3


@pytest.fixture
def callback(users, sectors, regions):
    _closed_lead(users, sectors, regions, closed_on="2026-03-10")
    callback_draw(month=dt.date(2026, 3, 1))
    return CallBack.objects.get()


def test_recording_needs_an_outcome_and_notes_when_unsatisfied(callback, users):
    with pytest.raises(TransitionError) as exc:
        callback_record(callback_id=callback.pk, actor=users["office"], status="done", outcome="")
    assert exc.value.errors == {"outcome": ["请选择满意度。"]}
    with pytest.raises(TransitionError) as exc:
        callback_record(callback_id=callback.pk, actor=users["office"], status="done", outcome="unsatisfied")
    assert "notes" in exc.value.errors
    with pytest.raises(TransitionError) as exc:
        callback_record(
            callback_id=callback.pk, actor=users["liaison_housing"], status="done", outcome="satisfied"
        )
    assert exc.value.kind == "forbidden"
    callback.refresh_from_db()
    assert callback.status == "pending"


def test_unsatisfied_goes_to_review(callback, users):
    callback_record(
        callback_id=callback.pk,
        actor=users["office"],
        status="done",
        outcome="unsatisfied",
        notes="问题仍然存在。",
    )
    callback.refresh_from_db()
    assert (callback.status, callback.outcome, callback.recorded_by) == (
        "done",
        "unsatisfied",
        users["office"],
    )
    review = LeadReview.objects.get()
    assert (review.source, review.status, callback.review) == ("callback", "pending", review)
    assert callback.lead.__class__.objects.get(pk=callback.lead_id).review_pending
    assert callback.lead.events.filter(action="callback").exists()
    with pytest.raises(TransitionError) as exc:
        callback_record(callback_id=callback.pk, actor=users["office"], status="done", outcome="satisfied")
    assert exc.value.message == "该回访已记录结果，不能重复记录。"


def test_satisfaction_per_unit_for_assessments(users, sectors, regions, units):
    for i, unit in enumerate(("housing", "housing", "housing", "transport")):
        _closed_lead(users, sectors, regions, closed_on=f"2026-03-{i + 2:02d}", unit=unit)
    callback_draw(month=dt.date(2026, 3, 1))
    outcomes = {"housing": ["satisfied", "basically", "unsatisfied"], "transport": ["satisfied"]}
    for c in CallBack.objects.select_related("lead").order_by("pk"):
        unit = c.lead.assignments.get().unit.code
        callback_record(
            callback_id=c.pk,
            actor=users["office"],
            status="done",
            outcome=outcomes[unit].pop(0),
            notes="记录。",
            now=at("2026-04-03 10:00"),
        )
    figures = satisfaction_by_unit(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert figures[units["housing"].pk] == {
        "satisfied": 1,
        "basically": 1,
        "unsatisfied": 1,
        "total": 3,
        "rate": 0.6667,
    }
    assert figures[units["transport"].pk]["rate"] == 1.0
    assert satisfaction_by_unit(dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == {}


def test_the_callback_page_records_and_shows_errors(callback, client_as):
    client = client_as("office")
    url = reverse("leads:callbacks") + "?month=2026-03"
    page = client.get(url).content.decode()
    assert callback.lead.number in page and reverse("reports:tip_detail", args=[callback.tip_id]) in page
    assert "13903917788" not in page  # the number is revealed only on the tip page, with a reason
    response = client.post(url, {"callback": callback.pk, "status": "done", "outcome": ""})
    assert response.status_code == 400 and "请选择满意度。" in response.content.decode()
    response = client.post(
        url, {"callback": callback.pk, "status": "done", "outcome": "satisfied"}, follow=True
    )
    assert "回访结果已记录" in response.content.decode()
    assert client_as("liaison_housing").get(url).status_code == 403


def test_the_api_lists_and_records(callback, api_as):
    api = api_as("office")
    body = api.get("/api/v1/callbacks/", {"month": "2026-03"}).json()
    assert [r["id"] for r in body["results"]] == [callback.pk]
    response = api.post(f"/api/v1/callbacks/{callback.pk}/record/", {"status": "done"}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"outcome": ["请选择满意度。"]}
    response = api.post(
        f"/api/v1/callbacks/{callback.pk}/record/", {"status": "done", "outcome": "basically"}, format="json"
    )
    assert response.status_code == 200 and response.json()["outcome"] == "basically"
    assert api.get("/api/v1/callbacks/", {"month": "2026-13"}).status_code == 400
    assert api_as("liaison_housing").get("/api/v1/callbacks/").status_code == 403
