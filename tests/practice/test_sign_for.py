"""签收: each assignment is signed for within 1 working day (configurable); the verification clock starts at
assignment or at signing (a setting); not signed in time → a reminder, then the unit head (the practice
sweep), then the escalation sweep's 排而不查 flag and deadline ladder."""

import pytest

from campaign import workdays
from campaign.models import Notification, OutboundMessage
from leads.models import DeadlinePolicy, LeadEvent
from leads.practice_sweep import practice_sweep, sign_for_escalate_cutoff

from .conftest import at
from .helpers import assignment_of, registered, step

pytestmark = pytest.mark.django_db


def test_sign_for_deadline_is_one_working_day_by_default(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-06 16:00"))  # a Friday afternoon
    a = assignment_of(lead, "housing")
    assert a.accept_deadline == at("2026-03-09 23:59:59")  # end of Monday
    assert a.deadline == workdays.add_workdays(at("2026-03-06 16:00"), 20)


def test_sign_for_time_comes_from_the_deadline_policy(users, sectors, regions):
    DeadlinePolicy.objects.filter(sector=None, priority="normal").update(accept_days=2)
    lead = registered(users, sectors, regions, now=at("2026-03-06 16:00"))
    assert assignment_of(lead, "housing").accept_deadline == at("2026-03-10 23:59:59")


def test_clock_at_signing_counts_the_verification_time_from_the_signing(users, sectors, regions, settings):
    settings.LEADS = {"CLOCK_STARTS_AT": "signing"}
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"), days=5)
    a = assignment_of(lead, "housing")
    # Before signing: the deadline as if signed on the last allowed day (Tuesday) → 5 working days on.
    assert a.deadline == at("2026-03-10 23:59:59")
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-02 15:00"))
    a.refresh_from_db()
    assert a.deadline == at("2026-03-09 23:59:59")  # Monday + 5 working days
    lead.refresh_from_db()
    assert lead.deadline == a.deadline


def test_a_late_signer_gains_no_time_when_the_clock_starts_at_signing(users, sectors, regions, settings):
    settings.LEADS = {"CLOCK_STARTS_AT": "signing"}
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"), days=5)
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-05 09:00"))  # two days late
    a = assignment_of(lead, "housing")
    assert a.deadline == at("2026-03-10 23:59:59")  # counted from the end of the sign-for time
    assert LeadEvent.objects.get(lead=lead, action="accept").data["late"] is True


def test_clock_at_assignment_ignores_the_signing(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"), days=5)
    deadline = assignment_of(lead, "housing").deadline
    assert deadline == at("2026-03-09 23:59:59")
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-03 09:00"))
    assert assignment_of(lead, "housing").deadline == deadline


def test_assignment_prompts_the_liaisons_by_sms_and_tells_the_head(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    liaison = Notification.objects.get(user=users["liaison_housing"])
    assert "请于 2026-03-03 前签收" in liaison.title
    sms = OutboundMessage.objects.filter(channel="sms")
    assert list(sms.values_list("recipient", flat=True)) == [users["liaison_housing"].phone]
    assert lead.number in sms.get().body and sms.get().body.startswith("【焦作市扫黑办】")
    assert Notification.objects.filter(user=users["unit_head_housing"]).count() == 1


def test_not_signed_in_time_reminds_the_liaison_once_at_the_edge(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    Notification.objects.all().delete()
    OutboundMessage.objects.all().delete()
    # Still inside the sign-for time: nothing.
    assert practice_sweep(now=at("2026-03-03 23:59"))["sign_for_reminded"] == 0
    counts = practice_sweep(now=at("2026-03-04 00:01"))
    assert counts["sign_for_reminded"] == 1 and counts["sign_for_escalated"] == 0
    a = assignment_of(lead, "housing")
    assert a.sign_for_level == 1
    notice = Notification.objects.get(user=users["liaison_housing"])
    assert "已超过签收期限" in notice.title
    assert (
        OutboundMessage.objects.filter(channel="sms", recipient=users["liaison_housing"].phone).count() == 1
    )
    assert LeadEvent.objects.get(lead=lead, action="sign_for_reminder").actor is None
    # A second run (another beat, another worker) changes nothing.
    assert practice_sweep(now=at("2026-03-04 00:05"))["sign_for_reminded"] == 0
    assert Notification.objects.count() == 1


def test_still_unsigned_a_working_day_later_goes_to_the_unit_head(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-05 10:00"))  # Thursday; sign by Friday
    practice_sweep(now=at("2026-03-06 23:59"))
    assert assignment_of(lead, "housing").sign_for_level == 0
    practice_sweep(now=at("2026-03-07 09:00"))  # Saturday: reminded
    assert assignment_of(lead, "housing").sign_for_level == 1
    # One more working day (Monday) must pass: nothing on Sunday or during Monday.
    practice_sweep(now=at("2026-03-09 23:00"))
    assert assignment_of(lead, "housing").sign_for_level == 1
    practice_sweep(now=at("2026-03-10 08:00"))
    assert assignment_of(lead, "housing").sign_for_level == 2
    head = Notification.objects.filter(user=users["unit_head_housing"], kind="sign_for_escalated").get()
    assert "超时未签收" in head.title
    assert OutboundMessage.objects.filter(channel="sms", recipient=users["unit_head_housing"].phone).exists()


def test_an_assignment_far_past_both_levels_gets_only_the_heads_notice(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    Notification.objects.all().delete()
    practice_sweep(now=at("2026-03-20 10:00"))
    assert assignment_of(lead, "housing").sign_for_level == 2
    assert not Notification.objects.filter(kind="sign_for_reminder").exists()
    assert Notification.objects.filter(kind="sign_for_escalated").count() == 1


def test_signed_in_time_is_never_reminded(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-03 09:00"))
    assert practice_sweep(now=at("2026-03-20 10:00"))["sign_for_reminded"] == 0
    assert not LeadEvent.objects.filter(action__startswith="sign_for").exists()


def test_escalate_cutoff_agrees_with_adding_working_days(users):
    # Sign-for deadlines before the cutoff had one more working day pass without signing.
    for deadline_day in ("2026-03-05", "2026-03-06", "2026-09-30"):
        deadline = at(f"{deadline_day} 23:59:59")
        ripe = workdays.add_workdays(deadline, 1)
        for hours in (-2, 1, 30):
            import datetime as dt

            now = ripe + dt.timedelta(hours=hours)
            assert (deadline < sign_for_escalate_cutoff(now, 1)) == (now > ripe), (deadline_day, hours)


def test_the_sweep_command_takes_now(users, sectors, regions):
    from io import StringIO

    from django.core.management import call_command

    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    out = StringIO()
    call_command("practice_sweep", "--now", "2026-03-04T09:00", stdout=out)
    assert '"sign_for_reminded": 1' in out.getvalue()
    assert assignment_of(lead, "housing").sign_for_level == 1


def test_not_signing_for_is_told_once_per_person_whatever_sweeps_run(users, sectors, regions):
    # One rule for 排而不查: the practice sweep's sign-for ladder. The escalation sweep, running on its own
    # beat, adds no second "not signed for" notice; the office gets one summary when the head is told.
    from leads.escalation import escalation_sweep

    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    Notification.objects.all().delete()
    for now in ("2026-03-04 09:00", "2026-03-05 09:00", "2026-03-09 09:00", "2026-03-10 09:00"):
        practice_sweep(now=at(now))
        escalation_sweep(now=at(now))
    assert assignment_of(lead, "housing").sign_for_level == 2
    assert sorted(Notification.objects.values_list("kind", "user__username")) == [
        ("sign_for_escalated", "unit_head_housing"),
        ("sign_for_escalated_summary", "office"),
        ("sign_for_escalated_summary", "office_leader"),
        ("sign_for_reminder", "liaison_housing"),
    ]
    summary = Notification.objects.filter(kind="sign_for_escalated_summary").first()
    assert lead.number in summary.body and "排而不查" in summary.title


def test_a_restricted_lead_unsigned_is_told_only_to_its_circle(users, sectors, regions):
    # 限制知悉范围: the office summary of unsigned assignments must not name a restricted lead to office
    # staff outside its circle; the circle (here: office leaders, its creator) hears of it on its own.
    hidden = registered(
        users, sectors, regions, now=at("2026-03-02 10:00"), actor="office_leader", restricted=True
    )
    open_lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"), actor="office_leader")
    Notification.objects.all().delete()
    practice_sweep(now=at("2026-03-20 10:00"))
    told = Notification.objects.filter(kind="sign_for_escalated_summary")
    office = [n.body for n in told.filter(user=users["office"])]
    assert office and all(hidden.number not in body for body in office)
    assert any(open_lead.number in body for body in office)
    leader = " ".join(n.body for n in told.filter(user=users["office_leader"]))
    assert hidden.number in leader and open_lead.number in leader
