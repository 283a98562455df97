"""Services and the workflow table: proposals, issue with document numbers, rectification, dismissal."""

import re
import threading

import pytest
from django.db import connection

from accountability import services
from accountability.models import (
    Action,
    ActionEvent,
    ActionKind,
    ActionSource,
    ActionStatus,
    ItemStatus,
    RectificationEvidence,
)
from accountability.workflow import STEPS, SYSTEM, WorkflowError, table_error
from campaign.models import AuditEntry, Notification
from campaign.roles import Role

NUMBER_RE = re.compile(r"^\S+〔\d{4}〕[1-9]\d*号$")


# --- the table -----------------------------------------------------------------------------------
@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("status", ActionStatus.values)
@pytest.mark.parametrize("role", [*Role.values, SYSTEM])
def test_table_allows_exactly_its_rows(step, status, role):
    allowed = role in STEPS[step].roles and status in STEPS[step].statuses
    assert (table_error(status, step, role) is None) == allowed


def test_leaders_and_discipline_can_take_no_step():
    for step in STEPS.values():
        assert Role.LEADER not in step.roles and Role.DISCIPLINE not in step.roles


# --- proposals -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_propose_refuses_bad_input_with_field_names_and_writes_nothing(users):
    with pytest.raises(WorkflowError) as exc:
        services.action_propose(kind="scold", units=["nowhere"], reasons=" ", actor=users["office"])
    assert {"kind", "units", "reasons"} <= set(exc.value.errors)
    assert Action.objects.count() == 0 and ActionEvent.objects.count() == 0


@pytest.mark.django_db
def test_propose_refuses_items_on_a_notice(users, units):
    with pytest.raises(WorkflowError) as exc:
        services.action_propose(
            kind=ActionKind.NOTICE,
            units=[units["housing"]],
            reasons="x",
            items=[{"description": "a"}],
            actor=users["office"],
        )
    assert "items" in exc.value.errors
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_only_office_may_propose_manually(users, units):
    with pytest.raises(WorkflowError) as exc:
        services.action_propose(kind=ActionKind.NOTICE, units=["housing"], reasons="x", actor=users["leader"])
    assert exc.value.kind == "forbidden"


@pytest.mark.django_db
def test_blind_spot_proposal_with_same_key_proposes_once(users, units):
    kwargs = {
        "kind": ActionKind.NOTICE,
        "units": ["culture_tourism"],
        "reasons": "旅游景区领域未发现线索",
        "source": ActionSource.BLIND_SPOT,
        "dedupe_key": "blind-spot:tourism:jiefang:2026Q3",
    }
    first = services.action_propose(**kwargs)
    second = services.action_propose(**kwargs)
    assert first.pk == second.pk
    assert first.status == ActionStatus.DRAFT and first.source == ActionSource.BLIND_SPOT
    assert first.title == "关于对市文化广电和旅游局线索核查工作的通报"
    # The office hears about it once.
    assert (
        Notification.objects.filter(kind="accountability_proposal").count()
        == users["office"].__class__.objects.filter(role="office").count()
    )


# --- issue and numbers ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_number_is_allocated_at_issue_not_draft(draft, users):
    action = draft()
    assert action.doc_number == ""
    action = services.action_transition(action_id=action.pk, step="issue", actor=users["office"])
    assert NUMBER_RE.match(action.doc_number)
    assert action.doc_number == f"焦扫黑办督〔{action.doc_year}〕1号"
    assert action.status == ActionStatus.ISSUED
    assert all(i.deadline is not None for i in action.items.all())
    assert action.rectify_deadline == max(i.deadline for i in action.items.all())


@pytest.mark.django_db
def test_numbers_count_per_series_and_year_without_leading_zeros(issued, settings):
    numbers = [issued(kind=ActionKind.NOTICE, items=[]).doc_number for _ in range(11)]
    assert numbers[0].endswith("〕1号") and numbers[9].endswith("〕10号") and numbers[10].endswith("〕11号")
    talk = issued(kind=ActionKind.TALK, items=[])
    assert talk.doc_number.startswith("焦扫黑办谈〔") and talk.doc_number.endswith("〕1号")
    settings.CAMPAIGN = {**settings.CAMPAIGN, "DOC_NUMBER_PREFIX": "焦扫黑"}
    assert issued(kind=ActionKind.VETO, items=[]).doc_number.startswith("焦扫黑〔")


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_share_a_number(campaign_data):
    users, units = campaign_data["users"], campaign_data["units"]
    ids = [
        services.action_propose(
            kind=ActionKind.NOTICE, units=[units["housing"]], reasons=f"r{i}", actor=users["office"]
        ).pk
        for i in range(6)
    ]
    errors = []
    barrier = threading.Barrier(len(ids))

    def issue(pk):
        try:
            barrier.wait()
            services.action_transition(action_id=pk, step="issue", actor=users["office"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = sorted(Action.objects.filter(pk__in=ids).values_list("doc_seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5, 6]


@pytest.mark.django_db
def test_issue_writes_audit_timeline_and_notifies_the_unit(draft, users):
    action = services.action_transition(action_id=draft().pk, step="issue", actor=users["office"])
    audit = AuditEntry.objects.get(action="accountability.issue", target_id=str(action.pk))
    assert audit.data["number"] == action.doc_number and audit.actor == users["office"]
    event = action.events.get(name="issue")
    assert (event.from_status, event.to_status) == ("draft", "issued")
    notified = set(
        Notification.objects.filter(kind="accountability_issued").values_list("user__username", flat=True)
    )
    assert {"liaison_housing", "unit_head_housing"} <= notified


@pytest.mark.django_db
def test_listed_supervision_without_items_cannot_be_issued(draft, users):
    action = draft(items=[])
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(action_id=action.pk, step="issue", actor=users["office"])
    assert "整改事项" in exc.value.message
    action.refresh_from_db()
    assert action.status == ActionStatus.DRAFT and action.doc_number == ""


@pytest.mark.django_db
def test_leader_cannot_issue(draft, users):
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(action_id=draft().pk, step="issue", actor=users["leader"])
    assert exc.value.kind == "forbidden"


@pytest.mark.django_db
def test_stale_version_is_refused(draft, users):
    action = draft()
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk, step="issue", actor=users["office"], expected_version=action.version - 1
        )
    assert exc.value.kind == "conflict"


# --- edit and dismiss ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_office_edits_a_draft_into_listed_supervision(draft, users, units):
    action = draft(kind=ActionKind.SUPERVISION, items=[])
    services.action_update_draft(
        action_id=action.pk,
        actor=users["office"],
        kind=ActionKind.LISTED_SUPERVISION,
        items=[{"description": "一", "deadline_days": 5}, {"description": "二", "deadline_days": 8}],
    )
    action.refresh_from_db()
    assert action.kind == ActionKind.LISTED_SUPERVISION
    assert list(action.items.values_list("seq", "deadline_days")) == [(1, 5), (2, 8)]
    assert action.events.filter(name="edit").exists()
    # The untouched default wording follows the new kind; wording the office wrote is kept.
    assert "挂牌督办" in action.body and "现予督办" not in action.body
    services.action_update_draft(action_id=action.pk, actor=users["office"], body="自拟正文")
    services.action_update_draft(action_id=action.pk, actor=users["office"], kind=ActionKind.RECTIFICATION)
    action.refresh_from_db()
    assert action.body == "自拟正文"


@pytest.mark.django_db
def test_edit_refuses_bad_item_days_and_keeps_the_old_items(draft, users):
    action = draft()
    with pytest.raises(WorkflowError) as exc:
        services.action_update_draft(
            action_id=action.pk, actor=users["office"], items=[{"description": "x", "deadline_days": 999}]
        )
    assert "items.0.deadline_days" in exc.value.errors
    assert action.items.count() == 2


@pytest.mark.django_db
def test_dismiss_needs_a_reason_and_is_final(draft, users):
    action = draft()
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(action_id=action.pk, step="dismiss", actor=users["office"], note="  ")
    assert "note" in exc.value.errors
    services.action_transition(action_id=action.pk, step="dismiss", actor=users["office"], note="派单错误")
    action.refresh_from_db()
    assert action.status == ActionStatus.DISMISSED and action.dismissed_reason == "派单错误"
    assert AuditEntry.objects.filter(action="accountability.dismiss", target_id=str(action.pk)).exists()
    with pytest.raises(WorkflowError):
        services.action_transition(action_id=action.pk, step="issue", actor=users["office"])


# --- rectification -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_rectification_report_accept_and_reject(issued, users, png):
    action = issued()
    one, two = action.items.order_by("seq")
    liaison, office = users["liaison_housing"], users["office"]
    services.action_transition(
        action_id=action.pk, step="report", actor=liaison, item=one.pk, body="已整改", evidence=[png()]
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.RECTIFYING
    services.action_transition(
        action_id=action.pk, step="report", actor=liaison, item=two.pk, body="已建台账", evidence=[png()]
    )
    assert RectificationEvidence.objects.count() == 2
    services.action_transition(
        action_id=action.pk, step="accept_item", actor=office, item=one.pk, note="通过"
    )
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk, step="reject_item", actor=office, item=two.pk, note=""
        )
    assert "note" in exc.value.errors
    services.action_transition(
        action_id=action.pk, step="reject_item", actor=office, item=two.pk, note="台账不全"
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status) == (ItemStatus.ACCEPTED, ItemStatus.REJECTED)
    action.refresh_from_db()
    assert action.status == ActionStatus.RECTIFYING
    # Report again after the rejection; accepting it makes the action rectified, then it can be closed.
    services.action_transition(
        action_id=action.pk, step="report", actor=liaison, item=two.pk, body="已补全", evidence=[png()]
    )
    services.action_transition(action_id=action.pk, step="accept_item", actor=office, item=two.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.RECTIFIED
    services.action_transition(action_id=action.pk, step="close", actor=office)
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED and action.closed_at
    names = list(action.events.values_list("name", flat=True))
    assert names[:2] == ["propose", "issue"] and names[-1] == "close"


@pytest.mark.django_db
def test_report_needs_evidence_and_text_and_changes_nothing_without(issued, users, png):
    action = issued()
    item = action.items.first()
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_housing"],
            item=item.pk,
            body="",
            evidence=[],
        )
    assert "body" in exc.value.errors
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_housing"],
            item=item.pk,
            body="x",
            evidence=[],
        )
    assert "evidence" in exc.value.errors
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and not item.reports.exists()


@pytest.mark.django_db
def test_other_units_liaison_cannot_report(issued, users, png):
    action = issued()
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_transport"],
            item=action.items.first().pk,
            body="x",
            evidence=[png()],
        )
    assert exc.value.kind == "state"


@pytest.mark.django_db
def test_evidence_with_a_fake_type_is_refused(issued, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    action = issued()
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    with pytest.raises(WorkflowError) as exc:
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_housing"],
            item=action.items.first().pk,
            body="x",
            evidence=[fake],
        )
    assert "evidence" in exc.value.errors


@pytest.mark.django_db
def test_a_notice_without_items_closes_straight_from_issued(issued, users):
    action = issued(kind=ActionKind.NOTICE, items=[])
    services.action_transition(action_id=action.pk, step="close", actor=users["office"])
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED


@pytest.mark.django_db
def test_talk_record_only_for_talks(issued, users):
    talk = issued(kind=ActionKind.TALK, items=[])
    services.action_transition(
        action_id=talk.pk, step="record_talk", actor=users["office"], talk_record="已约谈"
    )
    talk.refresh_from_db()
    assert talk.talk_record == "已约谈"
    notice = issued(kind=ActionKind.NOTICE, items=[])
    with pytest.raises(WorkflowError):
        services.action_transition(
            action_id=notice.pk, step="record_talk", actor=users["office"], talk_record="x"
        )
