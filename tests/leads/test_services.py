"""Lead services: numbering, deadlines, the derived status, each action's rules, informant feedback, triage."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaign import workdays
from campaign.models import Notification
from leads.models import (
    Assignment,
    AssignmentStatus,
    DeadlinePolicy,
    ExtensionRequest,
    Lead,
    LeadAttachment,
    LeadEvent,
    LeadSource,
    LeadStatus,
    LeadTip,
)
from leads.services import (
    deadline_days_for,
    lead_numbers_reserve,
    lead_transition,
    tip_triage,
    tip_triage_bulk,
)
from leads.workflow import TransitionError, VersionConflict
from reports.models import PublicStatus, Tip, TipEvent, TipStatus

from .factories import act, assignment_of, build, make_tip, register, sign_off, submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _local(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h, 0))


# --- numbers and deadlines -----------------------------------------------------------------------
def test_lead_numbers_are_sequential_per_year_and_formatted(users, sectors, regions):
    a = register(users, sectors, regions, now=_local(2026, 3, 2))
    b = register(users, sectors, regions, now=_local(2026, 3, 3))
    c = register(users, sectors, regions, now=_local(2027, 1, 4))
    assert re.fullmatch(r"JZ-2026-\d{6}", a.number)
    assert int(b.number[-6:]) == int(a.number[-6:]) + 1
    assert c.number == "JZ-2027-000001"
    assert (a.year, c.year) == (2026, 2027)


def test_reserving_a_block_of_numbers_continues_the_sequence(campaign_data):
    first = lead_numbers_reserve(year=2031)
    block = lead_numbers_reserve(year=2031, count=3)
    assert first == ["JZ-2031-000001"]
    assert block == ["JZ-2031-000002", "JZ-2031-000003", "JZ-2031-000004"]


def test_deadline_policy_most_specific_row_wins(campaign_data, sectors):
    assert deadline_days_for(sector=sectors["transport"], priority="normal") == 20
    assert deadline_days_for(sector=sectors["transport"], priority="urgent") == 5
    DeadlinePolicy.objects.create(sector=sectors["transport"], priority="", days=12)
    assert deadline_days_for(sector=sectors["transport"], priority="normal") == 12
    DeadlinePolicy.objects.create(sector=sectors["transport"], priority="urgent", days=3)
    assert deadline_days_for(sector=sectors["transport"], priority="urgent") == 3
    assert deadline_days_for(sector=sectors["mining"], priority="normal") == 20


def test_assignment_deadline_counts_working_days_over_the_national_day_holiday(users, sectors, regions):
    # Friday 2026-09-25: 20 working days skip the 1–7 October holiday and count the make-up days.
    start = _local(2026, 9, 25)
    lead = register(users, sectors, regions, units=["housing"], now=start)
    a = assignment_of(lead, "housing")
    assert a.deadline == workdays.add_workdays(start, 20)
    assert timezone.localtime(a.deadline).date() > dt.date(2026, 10, 22)
    assert lead.deadline == a.deadline


def test_days_given_by_the_office_override_the_policy(users, sectors, regions):
    start = _local(2026, 3, 2)
    lead = register(users, sectors, regions, units=["housing"], days=3, now=start)
    assert assignment_of(lead, "housing").deadline == workdays.add_workdays(start, 3)


# --- derived status ------------------------------------------------------------------------------
def test_lead_is_verified_only_when_every_active_assignment_has_a_result(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    assert lead.status == LeadStatus.ASSIGNED
    lead = act(users, lead, "accept", "liaison_housing")
    assert lead.status == LeadStatus.VERIFYING
    lead = submit(users, lead, "liaison_housing")
    assert lead.status == LeadStatus.VERIFYING
    lead = act(users, lead, "accept", "liaison_transport")
    lead = submit(users, lead, "liaison_transport")
    assert lead.status == LeadStatus.VERIFIED
    assert lead.verified_at is not None
    assert lead.deadline is None  # nothing open any more


def test_send_back_of_the_only_assignment_returns_the_lead_to_the_office(users, sectors, regions):
    lead = register(users, sectors, regions, units=["transport"])
    lead = act(users, lead, "send_back", "liaison_transport", note="属公安机关管辖。")
    assert lead.status == LeadStatus.REGISTERED
    a = Assignment.objects.get(lead=lead)
    assert a.status == AssignmentStatus.SENT_BACK and a.sent_back_reason == "属公安机关管辖。"
    lead = act(users, lead, "reassign", "office", units=["police"], note="改派公安。")
    assert lead.status == LeadStatus.ASSIGNED
    a.refresh_from_db()
    assert a.closed_at is not None
    assert assignment_of(lead, "police").is_primary


def test_send_back_needs_a_reason_and_changes_nothing_without_one(users, sectors, regions):
    lead = register(users, sectors, regions, units=["transport"])
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "send_back", "liaison_transport", note="  ")
    assert exc.value.errors == {"note": ["请填写退单理由。"]}
    assert Assignment.objects.get(lead=lead).status == AssignmentStatus.ASSIGNED
    assert Lead.objects.get(pk=lead.pk).version == lead.version


def test_a_result_needs_result_and_findings_before_it_goes_to_the_unit_head(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    lead = act(users, lead, "accept", "liaison_housing")
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_sign_off", "liaison_housing", result="", findings="")
    assert set(exc.value.errors) == {"result", "findings"}
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_sign_off", "liaison_housing", result="maybe", findings="写了")
    assert set(exc.value.errors) == {"result"}
    # And nothing is submitted without the unit head's signature (issue 11).
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "submit_result", "liaison_housing", result="partly", findings="写了")
    assert exc.value.kind == "state" and "签字背书" in exc.value.message
    assert assignment_of(lead, "housing").status == AssignmentStatus.ACCEPTED
    assert not LeadEvent.objects.filter(lead=lead, action__in=["submit_result", "request_sign_off"]).exists()


def test_a_liaison_acts_only_on_its_own_units_assignment(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    act(users, lead, "accept", "liaison_housing")
    assert assignment_of(lead, "transport").status == AssignmentStatus.ASSIGNED
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "accept", "liaison_market")
    assert exc.value.message == "贵单位没有待签收的分办任务。"


def test_result_files_are_checked_and_stored(users, sectors, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing")
    sign_off(users, lead, "liaison_housing", result="substantiated", findings="属实")
    bad = SimpleUploadedFile("笔录.exe", b"MZ\x90\x00" + b"\x00" * 100)
    with pytest.raises(TransitionError) as exc:
        act(
            users,
            lead,
            "submit_result",
            "liaison_housing",
            result="substantiated",
            findings="属实",
            attachments=[bad],
        )
    assert "attachments" in exc.value.errors
    assert not LeadAttachment.objects.exists()
    good = SimpleUploadedFile("现场.png", PNG)
    act(
        users,
        lead,
        "submit_result",
        "liaison_housing",
        result="substantiated",
        findings="属实",
        attachments=[good],
    )
    att = LeadAttachment.objects.get()
    assert (att.name, att.content_type, att.assignment.unit.code) == ("现场.png", "image/png", "housing")
    assert att.event.action == "submit_result"
    assert "现场" not in att.file.name  # stored under a random name


# --- extensions ----------------------------------------------------------------------------------
def test_extension_approval_moves_the_deadline_and_restarts_escalation(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing")
    a = assignment_of(lead, "housing")
    Assignment.objects.filter(pk=a.pk).update(escalation_level=1, escalated_at=timezone.now())
    act(users, lead, "request_extension", "liaison_housing", days=5, note="需调取银行流水。")
    ext = ExtensionRequest.objects.get()
    assert ext.status == ExtensionRequest.Status.PENDING and ext.old_deadline == a.deadline
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_extension", "liaison_housing", days=5, note="再来一次")
    assert exc.value.message == "已有一份延期申请在审批中。"
    act(users, lead, "approve_extension", "office", note="同意。")
    a.refresh_from_db()
    ext.refresh_from_db()
    assert a.deadline == workdays.add_workdays(ext.old_deadline, 5) == ext.new_deadline
    assert (a.extension_count, a.escalation_level, a.escalated_at) == (1, 0, None)
    # One extension per assignment by default.
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_extension", "liaison_housing", days=5, note="还要延期")
    assert "不能再申请延期" in exc.value.message


def test_extension_request_needs_days_and_reason_and_must_come_before_the_deadline(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing")
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_extension", "liaison_housing", note="理由")
    assert "days" in exc.value.errors
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_extension", "liaison_housing", days=5, note="")
    assert exc.value.errors == {"note": ["请填写延期理由。"]}
    later = assignment_of(lead, "housing").deadline + dt.timedelta(hours=1)
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "request_extension", "liaison_housing", days=5, note="来不及", now=later)
    assert exc.value.message == "办理期限已过，不能再申请延期。"


def test_refusing_an_extension_needs_a_reason_and_keeps_the_deadline(users, sectors, regions):
    lead = build("verifying", users, sectors, regions)
    before = assignment_of(lead, "housing").deadline
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "refuse_extension", "office")
    assert exc.value.errors == {"note": ["请填写不同意延期的理由。"]}
    act(users, lead, "refuse_extension", "office", note="理由不充分，请按期办结。")
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.REFUSED
    assert assignment_of(lead, "housing").deadline == before


def test_submitting_withdraws_a_pending_extension(users, sectors, regions):
    lead = build("verifying", users, sectors, regions)
    submit(users, lead, "liaison_housing")
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.WITHDRAWN


# --- review --------------------------------------------------------------------------------------
def test_return_for_reverification_reopens_that_unit_only(users, sectors, regions):
    lead = build("verified", users, sectors, regions)
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "return_for_reverification", "office", unit="housing")
    assert exc.value.errors == {"note": ["请填写退回重查的理由。"]}
    lead = act(users, lead, "return_for_reverification", "office", unit="housing", note="未走访当事人。")
    assert lead.status == LeadStatus.VERIFYING
    housing = assignment_of(lead, "housing")
    assert (housing.status, housing.result, housing.returned_count) == (AssignmentStatus.ACCEPTED, "", 1)
    assert housing.findings  # kept, so the unit builds on it
    assert assignment_of(lead, "transport").status == AssignmentStatus.SUBMITTED
    event = LeadEvent.objects.filter(action="return_for_reverification").get()
    assert event.data["previous"]["result"] == "substantiated"


def test_close_needs_a_disposition_that_does_not_claim_more_than_was_found(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing")
    submit(users, lead, "liaison_housing", result="unsubstantiated", findings="查否。")
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "close", "office")
    assert exc.value.errors == {"disposition": ["请选择办结方式。"]}
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "close", "office", disposition="criminal_case")
    assert exc.value.errors["disposition"] == ["核查结论为“不属实”的线索不能以“刑事立案”办结。"]
    # 查否 closes with an office leader's sign-off; a leader who closes signs by closing.
    lead = act(users, lead, "close", "office_leader", disposition="no_action")
    assert (lead.status, lead.result, lead.disposition) == ("closed", "unsubstantiated", "no_action")


def test_referral_to_discipline_marks_the_lead_and_notifies_discipline(users, sectors, regions):
    lead = build("verified", users, sectors, regions)
    lead = act(users, lead, "close", "office", disposition="administrative_penalty", refer_discipline=True)
    assert lead.discipline_referred and lead.discipline_referred_at
    assert Notification.objects.filter(user=users["discipline"], kind="lead_referred").exists()


def test_reopen_needs_a_reason_and_clears_the_closure(users, sectors, regions):
    lead = build("closed", users, sectors, regions)
    with pytest.raises(TransitionError):
        act(users, lead, "reopen", "office")
    lead = act(users, lead, "reopen", "office", note="收到新举报。")
    assert (lead.status, lead.disposition, lead.closed_at) == (LeadStatus.VERIFIED, "", None)


def test_reassign_withdraws_the_old_unit_and_keeps_the_primary_role(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    lead = act(
        users, lead, "reassign", "office", unit="housing", units=["natural_resources"], note="职责调整"
    )
    old = Assignment.objects.get(lead=lead, unit__code="housing")
    assert old.status == AssignmentStatus.WITHDRAWN
    assert assignment_of(lead, "natural_resources").is_primary
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "reassign", "office", unit="transport", units=["transport"])
    assert exc.value.errors == {"units": ["改派单位不能与原承办单位相同。"]}


def test_assign_refuses_a_unit_already_on_the_lead(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "assign", "office", units=["housing"])
    assert exc.value.errors == {"units": ["市住建局已在承办该线索。"]}
    with pytest.raises(TransitionError) as exc:
        act(users, lead, "assign", "office", units=["nope"])
    assert "units" in exc.value.errors


def test_every_action_writes_who_when_from_to_and_note(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing", note="收到")
    event = LeadEvent.objects.filter(lead=lead).order_by("-id").first()
    assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
        "accept",
        users["liaison_housing"],
        "assigned",
        "verifying",
        "收到",
    )
    assert event.assignment.unit.code == "housing"
    assert list(LeadEvent.objects.filter(lead=lead).values_list("action", flat=True)) == [
        "register",
        "assign",
        "accept",
    ]


def test_stale_version_is_a_conflict_with_the_current_state(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    act(users, lead, "accept", "liaison_housing")
    with pytest.raises(VersionConflict) as exc:
        lead_transition(
            lead_id=lead.pk,
            action="assign",
            actor=users["office"],
            units=["market"],
            expected_version=lead.version,
        )
    assert exc.value.lead.status == LeadStatus.VERIFYING
    assert "已被他人更新" in exc.value.message and "核查中" in exc.value.message


def test_assigning_notifies_the_units_liaisons_once(users, sectors, regions):
    register(users, sectors, regions, units=["housing"])
    titles = list(Notification.objects.filter(user=users["liaison_housing"]).values_list("title", flat=True))
    assert len(titles) == 1 and "签收" in titles[0]
    assert Notification.objects.filter(user=users["unit_head_housing"]).count() == 1


# --- informant feedback --------------------------------------------------------------------------
def test_lead_steps_move_the_informants_public_status(users, sectors, regions):
    tip = make_tip(sector=sectors["construction"], region=regions["xiuwu"])
    lead = tip_triage(tip_id=tip.pk, action="register", actor=users["office"], units=["housing"]).lead
    tip.refresh_from_db()
    assert (tip.status, tip.public_status) == (TipStatus.REGISTERED, PublicStatus.ACCEPTED)
    act(users, lead, "accept", "liaison_housing")
    tip.refresh_from_db()
    assert tip.public_status == PublicStatus.VERIFYING
    submit(users, lead, "liaison_housing")
    act(users, lead, "close", "office", disposition="criminal_case", public_conclusion="公安机关已立案侦查。")
    tip.refresh_from_db()
    assert tip.public_status == PublicStatus.CONCLUDED
    assert tip.public_conclusion == "公安机关已立案侦查。"
    public = list(TipEvent.objects.filter(tip=tip, public=True).values_list("public_text", flat=True))
    assert any("公安机关已立案侦查" in t for t in public)
    # Internal details never reach the public timeline.
    assert not any("住建" in t or "经走访" in t for t in public)


# --- triage --------------------------------------------------------------------------------------
def test_triage_register_uses_the_tip_and_links_it(users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"], accused="李某")
    outcome = tip_triage(tip_id=tip.pk, action="register", actor=users["office"], units=["transport"])
    lead = outcome.lead
    assert (lead.summary, lead.accused, lead.sector.code, lead.region.code) == (
        tip.description,
        "李某",
        "transport",
        "macun",
    )
    assert lead.source == LeadSource.objects.get(code="public_report")
    assert LeadTip.objects.get(tip=tip).lead == lead
    assert outcome.tip.unit.code == "transport"


def test_triage_refuses_a_tip_that_was_already_triaged(users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    tip_triage(tip_id=tip.pk, action="reject", actor=users["office"], note="民事纠纷。")
    with pytest.raises(TransitionError) as exc:
        tip_triage(tip_id=tip.pk, action="register", actor=users["office"])
    assert "已研判" in exc.value.message and exc.value.kind == "state"
    assert not Lead.objects.exists()


def test_triage_register_without_sector_names_the_missing_fields(users):
    tip = make_tip()
    with pytest.raises(TransitionError) as exc:
        tip_triage(tip_id=tip.pk, action="register", actor=users["office"])
    assert set(exc.value.errors) == {"sector", "region"}
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.NEW


def test_triage_merge_duplicate_and_reject(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    t1, t2, t3 = (make_tip(sector=sectors["construction"], region=regions["xiuwu"]) for _ in range(3))
    tip_triage(tip_id=t1.pk, action="merge", actor=users["office"], lead_id=lead.pk)
    assert Tip.objects.get(pk=t1.pk).status == TipStatus.MERGED
    assert LeadTip.objects.get(tip=t1).kind == LeadTip.Kind.MERGED
    assert LeadEvent.objects.filter(lead=lead, action="merge").exists()
    with pytest.raises(TransitionError) as exc:
        tip_triage(tip_id=t2.pk, action="duplicate", actor=users["office"])
    assert "duplicate_of" in exc.value.errors
    tip_triage(tip_id=t2.pk, action="duplicate", actor=users["office"], duplicate_of_id=t1.pk)
    assert Tip.objects.get(pk=t2.pk).duplicate_of_id == t1.pk
    with pytest.raises(TransitionError) as exc:
        tip_triage(tip_id=t3.pk, action="reject", actor=users["office"])
    assert exc.value.errors == {"note": ["请填写不予受理的理由。"]}
    tip_triage(tip_id=t3.pk, action="reject", actor=users["office"], note="不属于涉黑涉恶。")
    t3.refresh_from_db()
    assert (t3.status, t3.public_status) == (TipStatus.REJECTED, PublicStatus.NOT_ACCEPTED)


def test_only_the_office_triages(users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    for username in ("police", "liaison_housing", "leader"):
        with pytest.raises(TransitionError) as exc:
            tip_triage(tip_id=tip.pk, action="reject", actor=users[username], note="x")
        assert exc.value.kind == "forbidden"
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.NEW


def test_bulk_triage_reports_each_tip_and_keeps_going(users, sectors, regions):
    from leads.routing import routing_propose_for_tip

    tips = [make_tip(sector=sectors["transport"], region=regions["macun"]) for _ in range(3)]
    tip_triage(tip_id=tips[1].pk, action="reject", actor=users["office"], note="先处理了")
    proposals = {t.pk: routing_propose_for_tip(t) for t in tips}
    done, errors = tip_triage_bulk(
        tip_ids=[t.pk for t in tips], action="register_each", actor=users["office"], proposals=proposals
    )
    assert len(done) == 2 and list(errors) == [tips[1].pk]
    assert Lead.objects.count() == 2
    assert set(Assignment.objects.values_list("unit__code", flat=True)) == {"transport"}


def test_bulk_register_one_makes_a_single_lead_from_several_tips(users, sectors, regions):
    tips = [make_tip(sector=sectors["transport"], region=regions["macun"]) for _ in range(3)]
    done, errors = tip_triage_bulk(tip_ids=[t.pk for t in tips], action="register_one", actor=users["office"])
    lead = Lead.objects.get()
    assert not errors and len(done) == 3
    assert sorted(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True)) == sorted(
        t.pk for t in tips
    )
    assert sorted(Tip.objects.values_list("status", flat=True)) == ["merged", "merged", "registered"]


def test_bulk_reject_needs_a_reason(users, sectors, regions):
    tip = make_tip(sector=sectors["transport"], region=regions["macun"])
    with pytest.raises(TransitionError) as exc:
        tip_triage_bulk(tip_ids=[tip.pk], action="reject", actor=users["office"])
    assert exc.value.errors == {"note": ["请填写不予受理的理由。"]}
