"""签字背书: a unit's result is submitted only after its head signs it off in the portal; a 查否 closure
needs an office leader's sign-off; sign-offs record who and when, on the lead and on the printed sheet."""

import pytest
from django.urls import reverse

from leads.models import AssignmentStatus, SignOff
from leads.workflow import TransitionError

from .conftest import at
from .helpers import assignment_of, head_of, registered, sign_off, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def verifying(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 09:00"), units=["housing", "transport"])
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-02 10:00"))
    step(users, lead, "accept", "liaison_transport", now=at("2026-03-02 10:00"))
    return lead


def test_a_result_cannot_be_submitted_before_the_unit_head_signs(verifying, users):
    with pytest.raises(TransitionError) as exc:
        step(
            users,
            verifying,
            "submit_result",
            "liaison_housing",
            now=at("2026-03-05 10:00"),
            result="partly",
            findings="x",
        )
    assert exc.value.kind == "state" and "第一责任人签字背书" in exc.value.message
    step(
        users,
        verifying,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-05 10:00"),
        result="partly",
        findings="部分属实。",
    )
    with pytest.raises(TransitionError):  # asked, not yet signed
        step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-05 11:00"))
    step(users, verifying, "sign_off", "unit_head_housing", now=at("2026-03-05 12:00"), note="同意上报。")
    lead = step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-05 13:00"))
    a = assignment_of(lead, "housing")
    assert (a.status, a.result, a.findings) == (AssignmentStatus.SUBMITTED, "partly", "部分属实。")
    so = a.signoff
    assert (so.kind, so.signer_name, so.signer_title, so.signed_at, so.note) == (
        "unit_result",
        "张海涛",
        "第一责任人",
        at("2026-03-05 12:00"),
        "同意上报。",
    )


def test_only_the_head_of_that_unit_signs(verifying, users):
    step(
        users,
        verifying,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-05 10:00"),
        result="partly",
        findings="x",
    )
    with pytest.raises(TransitionError) as exc:
        step(users, verifying, "sign_off", "unit_head_transport", now=at("2026-03-05 11:00"))
    assert exc.value.message == "贵单位没有待签字背书的核查结果。"
    with pytest.raises(TransitionError) as exc:
        step(users, verifying, "sign_off", "liaison_housing", now=at("2026-03-05 11:00"))
    assert exc.value.kind == "forbidden"
    with pytest.raises(TransitionError) as exc:
        step(users, verifying, "sign_off", "office", now=at("2026-03-05 11:00"))
    assert exc.value.kind == "forbidden"
    assert not SignOff.objects.exists()


def test_what_is_submitted_is_what_was_signed(verifying, users):
    sign_off(users, verifying, "liaison_housing", result="unsubstantiated", findings="未发现问题。")
    with pytest.raises(TransitionError) as exc:
        step(
            users,
            verifying,
            "submit_result",
            "liaison_housing",
            now=at("2026-03-06 10:00"),
            result="substantiated",
            findings="属实。",
        )
    assert "与第一责任人签字背书的内容不一致" in exc.value.message
    assert assignment_of(verifying, "housing").status == AssignmentStatus.ACCEPTED
    # A new draft voids the signature: it must be signed again.
    step(
        users,
        verifying,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-06 10:00"),
        result="substantiated",
        findings="属实。",
    )
    assert assignment_of(verifying, "housing").signoff is None
    with pytest.raises(TransitionError):
        step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-06 11:00"))


def test_the_head_sends_it_back_with_comments(verifying, users):
    step(
        users,
        verifying,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-05 10:00"),
        result="partly",
        findings="x",
    )
    with pytest.raises(TransitionError) as exc:
        step(users, verifying, "decline_sign_off", "unit_head_housing", now=at("2026-03-05 11:00"), note="")
    assert exc.value.errors == {"note": ["请填写退回修改的意见。"]}
    step(
        users,
        verifying,
        "decline_sign_off",
        "unit_head_housing",
        now=at("2026-03-05 11:00"),
        note="补充询问笔录。",
    )
    a = assignment_of(verifying, "housing")
    assert a.signoff_requested_at is None and a.draft_findings == "x"
    with pytest.raises(TransitionError):
        step(users, verifying, "sign_off", "unit_head_housing", now=at("2026-03-05 12:00"))


def test_a_unit_without_a_head_account_is_told_so(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 09:00"), units=["transport"])
    step(users, lead, "accept", "liaison_transport", now=at("2026-03-02 10:00"))
    users["unit_head_transport"].is_active = False
    users["unit_head_transport"].save(update_fields=["is_active"])
    with pytest.raises(TransitionError) as exc:
        step(
            users,
            lead,
            "request_sign_off",
            "liaison_transport",
            now=at("2026-03-03 10:00"),
            result="partly",
            findings="x",
        )
    assert "尚未设置第一责任人账号" in exc.value.message


def test_return_for_reverification_needs_a_new_signature(verifying, users):
    sign_off(users, verifying, "liaison_housing", result="partly", findings="部分属实。")
    step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-06 10:00"))
    step(
        users,
        verifying,
        "return_for_reverification",
        "office",
        now=at("2026-03-06 11:00"),
        unit="housing",
        note="补充走访。",
    )
    a = assignment_of(verifying, "housing")
    assert a.signoff is None and a.signoff_requested_at is None and a.draft_findings == "部分属实。"
    with pytest.raises(TransitionError):
        step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-07 10:00"))


def _verified_unsubstantiated(users, lead):
    for liaison in ("liaison_housing", "liaison_transport"):
        sign_off(users, lead, liaison, result="unsubstantiated", findings="未发现问题。")
        step(users, lead, "submit_result", liaison, now=at("2026-03-06 10:00"))
    lead.refresh_from_db()
    assert lead.status == "verified"
    return lead


def test_closing_as_unsubstantiated_needs_an_office_leaders_sign_off(verifying, users):
    lead = _verified_unsubstantiated(users, verifying)
    with pytest.raises(TransitionError) as exc:
        step(users, lead, "close", "office", now=at("2026-03-09 10:00"), disposition="no_action")
    assert exc.value.kind == "state" and "办领导签字背书" in exc.value.message
    assert exc.value.errors == {"result": [exc.value.message]}
    with pytest.raises(TransitionError) as exc:  # an ordinary office user cannot sign it
        step(users, lead, "sign_off_closure", "office", now=at("2026-03-09 10:00"))
    assert exc.value.message == "只有办领导可以签字背书。"
    step(users, lead, "sign_off_closure", "office_leader", now=at("2026-03-09 11:00"), note="同意查否办结。")
    lead = step(users, lead, "close", "office", now=at("2026-03-09 12:00"), disposition="no_action")
    assert lead.status == "closed" and lead.result == "unsubstantiated"
    so = lead.closure_signoff
    assert (so.kind, so.signer_name, so.result, so.signed_at) == (
        "closure",
        "王建国",
        "unsubstantiated",
        at("2026-03-09 11:00"),
    )
    assert lead.events.get(action="close").data["signed_by"] == "王建国"


def test_a_leader_who_closes_as_unsubstantiated_signs_by_closing(verifying, users):
    lead = _verified_unsubstantiated(users, verifying)
    lead = step(users, lead, "close", "office_leader", now=at("2026-03-09 12:00"), disposition="no_action")
    assert lead.closure_signoff.signed_by == users["office_leader"]


def test_a_substantiated_closure_needs_no_leader(verifying, users):
    sign_off(users, verifying, "liaison_housing", result="substantiated", findings="属实。")
    step(users, verifying, "submit_result", "liaison_housing", now=at("2026-03-06 10:00"))
    sign_off(users, verifying, "liaison_transport", result="unsubstantiated", findings="未发现。")
    lead = step(users, verifying, "submit_result", "liaison_transport", now=at("2026-03-06 10:00"))
    lead = step(users, lead, "close", "office", now=at("2026-03-09 12:00"), disposition="criminal_case")
    assert lead.closure_signoff is None


def test_a_leaders_sign_off_lapses_when_results_change(verifying, users):
    lead = _verified_unsubstantiated(users, verifying)
    step(users, lead, "sign_off_closure", "office_leader", now=at("2026-03-09 11:00"))
    step(
        users,
        lead,
        "return_for_reverification",
        "office",
        now=at("2026-03-09 12:00"),
        unit="housing",
        note="补充。",
    )
    lead.refresh_from_db()
    assert lead.closure_signoff is None
    sign_off(users, lead, "liaison_housing", result="unsubstantiated", findings="补充走访，仍未发现。")
    step(users, lead, "submit_result", "liaison_housing", now=at("2026-03-10 10:00"))
    with pytest.raises(TransitionError):
        step(users, lead, "close", "office", now=at("2026-03-10 12:00"), disposition="no_action")


def test_old_behaviour_by_setting(verifying, users, settings):
    settings.LEADS = {"REQUIRE_UNIT_SIGN_OFF": False, "REQUIRE_LEADER_SIGN_OFF_UNSUBSTANTIATED": False}
    for liaison in ("liaison_housing", "liaison_transport"):
        step(
            users,
            verifying,
            "submit_result",
            liaison,
            now=at("2026-03-06 10:00"),
            result="unsubstantiated",
            findings="查否。",
        )
    lead = step(users, verifying, "close", "office", now=at("2026-03-09 12:00"), disposition="no_action")
    assert lead.status == "closed" and lead.closure_signoff is None


def test_sign_offs_show_on_the_lead_and_the_printed_sheet(verifying, users, client_as):
    lead = _verified_unsubstantiated(users, verifying)
    step(users, lead, "close", "office_leader", now=at("2026-03-09 12:00"), disposition="no_action")
    page = client_as("office").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="signoffs"' in page and page.count('class="list-group-item small signoff"') == 3
    sheet = client_as("office").get(reverse("leads:print", args=[lead.pk])).content.decode()
    assert "扫黑除恶线索办理审批表" in sheet
    assert sheet.count("第一责任人签字背书") == 2 and "张海涛" in sheet and "刘志强" in sheet
    assert "办领导签字背书" in sheet and "王建国" in sheet and "2026年3月9日 12:00" in sheet
    # The other unit's findings stay hidden on a co-unit's printout; the signature still shows.
    sheet = client_as("liaison_transport").get(reverse("leads:print", args=[lead.pk])).content.decode()
    assert "张海涛" in sheet and sheet.count("未发现问题。") == 1
    assert client_as("liaison_market").get(reverse("leads:print", args=[lead.pk])).status_code == 404


def test_the_unit_heads_queue(verifying, users, client_as):
    step(
        users,
        verifying,
        "request_sign_off",
        "liaison_housing",
        now=at("2026-03-05 10:00"),
        result="partly",
        findings="x",
    )
    page = client_as("unit_head_housing").get(reverse("leads:signoffs")).content.decode()
    assert verifying.number in page and "部分属实" in page
    assert (
        verifying.number
        not in client_as("unit_head_transport").get(reverse("leads:signoffs")).content.decode()
    )
    assert client_as("liaison_housing").get(reverse("leads:signoffs")).status_code == 403
    assert head_of(users, "liaison_housing") == users["unit_head_housing"]
