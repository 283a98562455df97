"""退单: only within the window (2 working days after the assignment), with reasons; the office accepts
(reassigns) or refuses (the unit keeps it, deadline unchanged); counts per unit for assessments."""

import pytest
from django.urls import reverse

from leads.models import AssignmentStatus, LeadEvent, SendBack
from leads.selectors import sendback_counts
from leads.workflow import TransitionError

from .conftest import at
from .helpers import assignment_of, registered, step

pytestmark = pytest.mark.django_db

REASON = "涉事场地为私人院落，属治安问题，建议公安机关核查。"


def test_send_back_on_the_last_allowed_working_day_is_accepted(users, sectors, regions):
    # Assigned Thursday: the window is Friday and Monday (the weekend does not count).
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    a = assignment_of(lead, "housing")
    assert a.send_back_until == at("2026-03-09 23:59:59")
    step(users, lead, "send_back", "liaison_housing", now=at("2026-03-09 23:30"), note=REASON)
    a.refresh_from_db()
    assert a.status == AssignmentStatus.SENT_BACK
    sb = SendBack.objects.get(assignment=a)
    assert (sb.unit.code, sb.reason, sb.decision, sb.status_before) == (
        "housing",
        REASON,
        "pending",
        "assigned",
    )


def test_send_back_the_day_after_the_window_is_refused_readably(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "send_back", "liaison_housing", now=at("2026-03-10 08:30"), note=REASON)
    assert exc.value.kind == "state"
    assert exc.value.message.startswith("退单须在派单后 2 个工作日内提出（截止 2026-03-09 23:59）")
    assert assignment_of(lead, "housing").status == AssignmentStatus.ASSIGNED
    assert not SendBack.objects.exists()
    assert not LeadEvent.objects.filter(action="send_back").exists()


def test_the_window_counts_holidays_out_and_make_up_days_in(users, sectors, regions):
    # Assigned on the eve of the National Day holiday (Oct 1–7 off; Saturday Oct 10 is a make-up day).
    lead = registered(users, sectors, regions, now=at("2026-09-30 10:00"))
    assert assignment_of(lead, "housing").send_back_until == at("2026-10-09 23:59:59")
    with pytest.raises(TransitionError):
        step(users, lead, "send_back", "liaison_housing", now=at("2026-10-10 09:00"), note=REASON)
    step(users, lead, "send_back", "liaison_housing", now=at("2026-10-09 17:00"), note=REASON)


def test_the_window_is_a_setting(users, sectors, regions, settings):
    settings.LEADS = {"SEND_BACK_WORKDAYS": 1}
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    assert assignment_of(lead, "housing").send_back_until == at("2026-03-06 23:59:59")


def test_a_send_back_needs_reasons(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "send_back", "liaison_housing", now=at("2026-03-05 11:00"), note="  ")
    assert exc.value.errors == {"note": ["请填写退单理由。"]}
    assert not SendBack.objects.exists()


def test_office_accepts_a_send_back_by_reassigning(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    step(users, lead, "send_back", "liaison_housing", now=at("2026-03-06 10:00"), note=REASON)
    lead = step(users, lead, "accept_send_back", "office", now=at("2026-03-06 15:00"), units=["police"])
    assert lead.status == "assigned"
    sb = SendBack.objects.get()
    assert (sb.decision, sb.decided_by.username) == ("accepted", "office")
    police = assignment_of(lead, "police")
    assert police.status == AssignmentStatus.ASSIGNED and police.is_primary
    assert lead.assignments.get(unit__code="housing").closed_at is not None
    # A reassignment of the same unit is refused; the send-back is settled and cannot be decided twice.
    with pytest.raises(TransitionError):
        step(users, lead, "refuse_send_back", "office", now=at("2026-03-06 16:00"), note="x")


def test_office_refuses_a_send_back_and_the_unit_keeps_it_with_its_deadline(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-05 11:00"))
    deadline = assignment_of(lead, "housing").deadline
    step(users, lead, "send_back", "liaison_housing", now=at("2026-03-06 10:00"), note=REASON)
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "refuse_send_back", "office", now=at("2026-03-06 15:00"), note="")
    assert exc.value.errors == {"note": ["请填写不同意退单的理由。"]}
    lead = step(
        users, lead, "refuse_send_back", "office", now=at("2026-03-06 15:00"), note="属于住建部门监管职责。"
    )
    a = assignment_of(lead, "housing")
    assert (a.status, a.deadline, a.send_back_refused) == (AssignmentStatus.ACCEPTED, deadline, True)
    assert lead.status == "verifying" and lead.deadline == deadline
    assert SendBack.objects.get().decision == "refused"
    # Refused once: no second send-back, even inside the window.
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "send_back", "liaison_housing", now=at("2026-03-06 16:00"), note=REASON)
    assert "不同意退单" in exc.value.message


def test_send_back_counts_per_unit_for_assessments(users, sectors, regions, units):
    for day, decision in (("2026-03-02", "accept"), ("2026-03-03", "refuse"), ("2026-03-04", None)):
        lead = registered(users, sectors, regions, now=at(f"{day} 09:00"))
        step(users, lead, "send_back", "liaison_housing", now=at(f"{day} 10:00"), note=REASON)
        if decision == "accept":
            step(users, lead, "accept_send_back", "office", now=at(f"{day} 11:00"), units=["police"])
        elif decision == "refuse":
            step(users, lead, "refuse_send_back", "office", now=at(f"{day} 11:00"), note="请继续办理。")
    housing = units["housing"]
    assert sendback_counts(housing, at("2026-03-01 00:00"), at("2026-04-01 00:00")) == {
        "total": 3,
        "accepted": 1,
        "refused": 1,
        "pending": 1,
    }
    # Dates are whole days, both ends included; the period edges are honoured.
    import datetime as dt

    assert sendback_counts(housing.pk, dt.date(2026, 3, 3), dt.date(2026, 3, 3))["total"] == 1
    assert sendback_counts(units["transport"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))["total"] == 0


def test_the_page_shows_the_window_and_the_office_arbitrates_there(client_as, users, sectors, regions):
    from django.utils import timezone

    lead = registered(users, sectors, regions, now=timezone.now())
    page = client_as("liaison_housing").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "可退单至" in page
    step(users, lead, "send_back", "liaison_housing", now=timezone.now(), note=REASON)
    lead.refresh_from_db()
    page = client_as("office").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-action-form="accept_send_back"' in page and 'data-action-form="refuse_send_back"' in page
    response = client_as("office").post(
        reverse("leads:detail", args=[lead.pk]),
        {"action": "refuse_send_back", "version": lead.version, "note": ""},
    )
    assert response.status_code == 400 and "请填写不同意退单的理由。" in response.content.decode()
    response = client_as("office").post(
        reverse("leads:detail", args=[lead.pk]),
        {"action": "refuse_send_back", "version": lead.version, "note": "请继续办理。"},
        follow=True,
    )
    assert "已不同意退单" in response.content.decode()
