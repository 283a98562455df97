"""The accountability sweep: proposals from escalated assignments, overdue rectification, overdue tasks."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability import services
from accountability.models import (
    Action,
    ActionKind,
    ActionSource,
    ActionStatus,
    EscalationLink,
    ItemStatus,
    UnitTask,
)
from campaign.models import Notification
from campaign.workdays import add_workdays
from leads.escalation_levels import EscalationLevel
from leads.models import Assignment


def _escalate(assignment, level, *, days_ago=12):
    Assignment.objects.filter(pk=assignment.pk).update(
        escalation_level=level, deadline=timezone.now() - dt.timedelta(days=days_ago)
    )


@pytest.mark.django_db
def test_supervision_level_drafts_a_supervision_notice_once(make_lead):
    lead, assignment = make_lead("housing")
    _escalate(assignment, EscalationLevel.SUPERVISION)
    first = services.proposals_sweep()
    second = services.proposals_sweep()
    assert first["proposals_created"] == 1 and second == {"proposals_created": 0, "proposals_joined": 0}
    action = Action.objects.get()
    assert action.kind == ActionKind.SUPERVISION and action.status == ActionStatus.DRAFT
    assert action.source == ActionSource.ESCALATION
    assert list(action.leads.all()) == [lead]
    assert lead.number in action.reasons and "已超期" in action.reasons
    assert EscalationLink.objects.filter(assignment=assignment, level=3).count() == 1


@pytest.mark.django_db
def test_accountability_level_proposes_a_talk(make_lead):
    _lead, assignment = make_lead("transport", sector="transport")
    _escalate(assignment, EscalationLevel.ACCOUNTABILITY, days_ago=25)
    services.proposals_sweep()
    action = Action.objects.get()
    assert action.kind == ActionKind.TALK
    assert action.title == "关于约谈市交通运输局主要负责同志的通知"


@pytest.mark.django_db
def test_two_overdue_leads_of_one_unit_join_one_draft(make_lead):
    _l1, a1 = make_lead("housing")
    _l2, a2 = make_lead("housing", summary="另一工地阻工")
    _l3, a3 = make_lead("transport", sector="transport")
    for a in (a1, a2, a3):
        _escalate(a, EscalationLevel.SUPERVISION)
    counts = services.proposals_sweep()
    assert counts == {"proposals_created": 2, "proposals_joined": 1}
    housing = Action.objects.get(units__code="housing")
    assert housing.leads.count() == 2 and housing.escalations.count() == 2


@pytest.mark.django_db
def test_a_dismissed_proposal_is_not_proposed_again(make_lead, users):
    _lead, assignment = make_lead("housing")
    _escalate(assignment, EscalationLevel.SUPERVISION)
    services.proposals_sweep()
    action = Action.objects.get()
    services.action_transition(action_id=action.pk, step="dismiss", actor=users["office"], note="已延期")
    services.proposals_sweep()
    assert Action.objects.count() == 1


@pytest.mark.django_db
def test_closed_assignments_and_lower_levels_propose_nothing(make_lead):
    _l1, a1 = make_lead("housing")
    _escalate(a1, EscalationLevel.OVERDUE)
    _l2, a2 = make_lead("housing")
    _escalate(a2, EscalationLevel.SUPERVISION)
    Assignment.objects.filter(pk=a2.pk).update(status="withdrawn")
    assert services.proposals_sweep()["proposals_created"] == 0


@pytest.mark.django_db
def test_sweep_task_calls_the_service_and_runs_twice_safely(make_lead):
    from accountability.tasks import accountability_sweep

    _lead, assignment = make_lead("housing")
    _escalate(assignment, EscalationLevel.SUPERVISION)
    assert accountability_sweep()["proposals_created"] == 1
    assert accountability_sweep()["proposals_created"] == 0


@pytest.mark.django_db
def test_overdue_rectification_is_marked_once_and_notified_once(issued, users):
    now = timezone.now()
    action = issued(now=now - dt.timedelta(days=60))
    first = services.rectification_sweep(now=now)
    assert first["rectification_overdue"] == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.OVERDUE and action.overdue_at == now
    assert all(i.overdue_at == now for i in action.items.all())
    sent = Notification.objects.filter(kind="accountability_overdue").count()
    assert sent >= 2  # the unit's liaison and head, and the office
    services.rectification_sweep(now=now + dt.timedelta(minutes=15))
    assert Notification.objects.filter(kind="accountability_overdue").count() == sent
    assert action.events.filter(name="mark_overdue").count() == 1


@pytest.mark.django_db
def test_a_report_pending_review_is_not_overdue(issued, users, png):
    now = timezone.now()
    action = issued(now=now - dt.timedelta(days=60))
    for item in action.items.all():
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_housing"],
            item=item.pk,
            body="x",
            evidence=[png()],
            now=now - dt.timedelta(days=50),
        )
    assert services.rectification_sweep(now=now)["rectification_overdue"] == 0


@pytest.mark.django_db
def test_long_overdue_rectification_proposes_a_notice_once(issued):
    now = timezone.now()
    action = issued(now=now - dt.timedelta(days=90))
    services.rectification_sweep(now=now - dt.timedelta(days=20))
    counts = services.rectification_sweep(now=now)
    assert counts["rectification_proposals"] == 1
    followup = Action.objects.get(parent=action)
    assert followup.kind == ActionKind.NOTICE and followup.status == ActionStatus.DRAFT
    assert followup.source == ActionSource.RECTIFICATION_OVERDUE
    assert services.rectification_sweep(now=now)["rectification_proposals"] == 0


@pytest.mark.django_db
def test_accepting_the_overdue_items_makes_the_action_rectified(issued, users, png):
    now = timezone.now()
    action = issued(now=now - dt.timedelta(days=60))
    services.rectification_sweep(now=now)
    for item in action.items.all():
        services.action_transition(
            action_id=action.pk,
            step="report",
            actor=users["liaison_housing"],
            item=item.pk,
            body="x",
            evidence=[png()],
        )
        services.action_transition(
            action_id=action.pk, step="accept_item", actor=users["office"], item=item.pk
        )
    action.refresh_from_db()
    assert action.status == ActionStatus.RECTIFIED
    assert set(action.items.values_list("status", flat=True)) == {ItemStatus.ACCEPTED}


@pytest.mark.django_db
def test_overdue_task_notifies_the_unit_then_escalates_to_office_leaders(users, units):
    now = timezone.now()
    task = services.unit_task_assign(
        actor=users["office"],
        units=["housing"],
        title="专项排查",
        deadline_days=3,
        now=now - dt.timedelta(days=40),
    )[0]
    assert services.unit_tasks_sweep(now=now - dt.timedelta(days=20))["tasks_overdue"] == 1
    task.refresh_from_db()
    assert task.escalation_level == 1 and task.overdue_at
    unit_notes = set(
        Notification.objects.filter(kind="unit_task_overdue").values_list("user__username", flat=True)
    )
    assert unit_notes == {"liaison_housing", "unit_head_housing"}
    counts = services.unit_tasks_sweep(now=now)
    assert counts == {"tasks_overdue": 0, "tasks_escalated": 1}
    escalated = set(
        Notification.objects.filter(kind="unit_task_overdue", dedupe_key__contains=":2:").values_list(
            "user__username", flat=True
        )
    )
    assert escalated == {"office_leader", "unit_head_housing"}
    assert services.unit_tasks_sweep(now=now) == {"tasks_overdue": 0, "tasks_escalated": 0}


@pytest.mark.django_db
def test_task_report_and_review(users, png):
    task = services.unit_task_assign(actor=users["office"], units=["housing"], title="排查", deadline_days=5)[
        0
    ]
    with pytest.raises(services.WorkflowError) as exc:
        services.unit_task_report(task_id=task.pk, actor=users["liaison_transport"], body="x", progress=10)
    assert exc.value.kind == "forbidden"
    with pytest.raises(services.WorkflowError) as exc:
        services.unit_task_report(task_id=task.pk, actor=users["liaison_housing"], body="", progress=120)
    assert {"body", "progress"} <= set(exc.value.errors)
    services.unit_task_report(
        task_id=task.pk, actor=users["liaison_housing"], body="推进中", progress=40, files=[png()]
    )
    services.unit_task_report(
        task_id=task.pk, actor=users["liaison_housing"], body="完成", progress=90, is_final=True
    )
    task.refresh_from_db()
    assert task.status == "submitted" and task.progress == 100
    with pytest.raises(services.WorkflowError) as exc:
        services.unit_task_review(task_id=task.pk, actor=users["office"], accept=False, note="")
    assert "note" in exc.value.errors
    services.unit_task_review(task_id=task.pk, actor=users["office"], accept=True)
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at == task.submitted_at


@pytest.mark.django_db
def test_task_assign_validates_input(users):
    with pytest.raises(services.WorkflowError) as exc:
        services.unit_task_assign(actor=users["office"], units=[], title=" ")
    assert {"title", "units", "deadline_days"} <= set(exc.value.errors)
    assert not UnitTask.objects.exists()


@pytest.mark.django_db
def test_task_deadline_counts_working_days(users):
    start = timezone.make_aware(dt.datetime(2026, 9, 30, 10, 0))  # before the National Day holiday
    task = services.unit_task_assign(
        actor=users["office"], units=["housing"], title="t", deadline_days=1, now=start
    )[0]
    assert task.deadline == add_workdays(start, 1)
    assert timezone.localtime(task.deadline).date() >= dt.date(2026, 10, 8)  # Oct 1–7 are holidays
