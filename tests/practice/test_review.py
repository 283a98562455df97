"""评查: a lead closed as 查否 that later receives new related tips (the same phone, ID number, company …)
is flagged; a list "closed 查否, reported again N times"; the office reopens it with escalated handling
(another or higher unit) or confirms the conclusion with reasons."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaign.models import Notification
from leads.models import LeadEvent, LeadKey, LeadReview, RepeatReport
from leads.practice import repeat_check_tip
from leads.practice_sweep import repeat_sweep
from leads.workflow import TransitionError

from .conftest import at
from .helpers import closed_unsubstantiated, make_tip, step

pytestmark = pytest.mark.django_db

SUMMARY = "有人以“快速放款”为名放高利贷，联系电话13803910147，逾期后上门滋扰。"


@pytest.fixture
def closed(users, sectors, regions):
    return closed_unsubstantiated(users, sectors, regions, now=at("2026-03-02 09:00"), summary=SUMMARY)


def _tip(text, when):
    return make_tip(description=text, received_at=when)


def test_closing_as_unsubstantiated_keeps_its_identifiers(closed):
    assert list(LeadKey.objects.filter(lead=closed).values_list("kind", "value")) == [
        ("phone", "13803910147")
    ]


def test_a_new_tip_with_the_same_phone_flags_the_lead(closed, users):
    tip = _tip("又有人放高利贷，电话还是138-0391-0147，借款人被堵门。", at("2026-04-01 10:00"))
    assert repeat_check_tip(tip_id=tip.pk) == [closed.pk]
    closed.refresh_from_db()
    assert (closed.repeat_count, closed.review_pending) == (1, True)
    report = RepeatReport.objects.get()
    assert report.tip == tip and report.matched == [{"value": "138****0147"}]
    event = LeadEvent.objects.get(lead=closed, action="repeat_report")
    assert tip.tracking_code in event.note and "13803910147" not in event.note
    assert Notification.objects.filter(user=users["office"], kind="lead_repeat_report").exists()
    # The same tip again (the intake task and the sweep): counted once.
    assert repeat_check_tip(tip_id=tip.pk) == []
    closed.refresh_from_db()
    assert closed.repeat_count == 1
    # Another tip: reported again twice; still one review pending.
    repeat_check_tip(tip_id=_tip("电话13803910147的人又来催债。", at("2026-04-05 10:00")).pk)
    closed.refresh_from_db()
    assert closed.repeat_count == 2
    assert LeadReview.objects.get(lead=closed).status == "pending"


def test_unrelated_earlier_or_non_unsubstantiated_are_not_flagged(closed, users, sectors, regions):
    assert repeat_check_tip(tip_id=_tip("电话13912345678的人放贷。", at("2026-04-01 10:00")).pk) == []
    # A tip from before the closure is part of what was verified.
    assert repeat_check_tip(tip_id=_tip("电话13803910147放贷。", at("2026-03-03 10:00")).pk) == []
    # A reopened lead is no longer "closed 查否": its identifiers are dropped.
    step(users, closed, "reopen", "office", now=at("2026-03-20 10:00"), note="重新核查。")
    assert not LeadKey.objects.filter(lead=closed).exists()
    assert repeat_check_tip(tip_id=_tip("电话13803910147放贷。", at("2026-04-02 10:00")).pk) == []


def test_the_sweep_checks_tips_whose_message_was_lost(closed):
    tip = _tip("电话13803910147又在放贷。", timezone.now() - dt.timedelta(minutes=5))
    assert repeat_sweep() == 1
    assert RepeatReport.objects.get().tip == tip
    assert repeat_sweep() == 0


def test_the_review_list_says_how_often_it_was_reported_again(closed, client_as):
    for day in ("2026-04-01", "2026-04-03"):
        repeat_check_tip(tip_id=_tip("电话13803910147放贷。", at(f"{day} 10:00")).pk)
    page = client_as("office").get(reverse("leads:reviews")).content.decode()
    assert closed.number in page and "2 次" in page and "待评查" in page
    assert client_as("liaison_transport").get(reverse("leads:reviews")).status_code == 403
    detail = client_as("office").get(reverse("leads:detail", args=[closed.pk])).content.decode()
    assert "查否后再次被举报 2 次" in detail and 'id="repeats"' in detail


def test_review_escalates_handling_to_another_unit(closed, users):
    repeat_check_tip(tip_id=_tip("电话13803910147放贷。", at("2026-04-01 10:00")).pk)
    with pytest.raises(TransitionError) as exc:  # not the unit that found nothing
        step(
            users,
            closed,
            "review_escalate",
            "office",
            now=at("2026-04-02 10:00"),
            units=["transport"],
            note="不实。",
        )
    assert exc.value.errors == {"units": ["提级办理须交由原承办单位以外的其他单位或上级单位。"]}
    with pytest.raises(TransitionError) as exc:
        step(
            users, closed, "review_escalate", "office", now=at("2026-04-02 10:00"), units=["police"], note=""
        )
    assert exc.value.errors == {"note": ["请填写提级办理的理由。"]}
    lead = step(
        users,
        closed,
        "review_escalate",
        "office",
        now=at("2026-04-02 10:00"),
        units=["police"],
        note="原核查不深入，提级由公安机关办理。",
    )
    assert lead.status == "verifying" and lead.escalated_handling and lead.priority == "high"
    assert not lead.review_pending and lead.result == "" and lead.closed_at is None
    assert lead.assignments.get(unit__code="police").status == "assigned"
    review = LeadReview.objects.get(lead=lead)
    assert (review.status, review.units, review.decided_by) == ("escalated", ["police"], users["office"])


def test_review_confirms_with_reasons(closed, users):
    repeat_check_tip(tip_id=_tip("电话13803910147放贷。", at("2026-04-01 10:00")).pk)
    with pytest.raises(TransitionError):
        step(users, closed, "review_confirm", "office", now=at("2026-04-02 10:00"), note=" ")
    lead = step(
        users,
        closed,
        "review_confirm",
        "office",
        now=at("2026-04-02 10:00"),
        note="新举报与原线索相同，原结论成立。",
    )
    assert lead.status == "closed" and not lead.review_pending and lead.repeat_count == 1
    assert LeadReview.objects.get().status == "confirmed"
    with pytest.raises(TransitionError) as exc:
        step(users, closed, "review_confirm", "office", now=at("2026-04-03 10:00"), note="再次。")
    assert exc.value.message == "该线索没有待评查事项。"


def test_a_company_name_ties_tips_too(users, sectors, regions):
    lead = closed_unsubstantiated(
        users,
        sectors,
        regions,
        now=at("2026-03-02 09:00"),
        summary="焦作市惠民果蔬批发有限公司垄断冷库租赁。",
    )
    tip = _tip("焦作市惠民果蔬批发有限公司仍在垄断冷库，价格比别处高。", at("2026-04-01 10:00"))
    assert repeat_check_tip(tip_id=tip.pk) == [lead.pk]
