"""Assessment scores against hand-computed expectations on a small fixture (2026 Q2, housing)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accountability import assessments
from accountability.models import ActionKind, Assessment, AssessmentAdjustment, Grade, ItemStatus, UnitTask
from accountability.workflow import WorkflowError
from campaign.models import AuditEntry, PublicityActivity
from leads.models import Assignment

from .conftest import aware

NOW = aware(2026, 7, 15)  # after the quarter: the whole of Q2 counts
Q2 = dt.date(2026, 5, 1)


@pytest.fixture
def q2(make_lead, users, units, issued):
    """Housing in 2026 Q2 (1 April – 30 June).

    Assignments (deadline, submitted, returned, assigned → signed for):
      A1  04-20  04-18 on time   0   04-01 → 04-02 (in time)
      A2  05-10  05-15 late      1   04-10 → 04-20 (late: 3 working days end on 04-15)
      A3  06-10  —   open        0   05-06 → never (late)
      A4  06-20  06-19 on time   0   06-01 → 06-02 (in time)
      A5  sent back (excluded everywhere)
    Publicity: 2 activities. Rectification: 2 items, one accepted 06-01, one marked overdue 06-15.
    Tasks: one done before its deadline, one past its deadline with no report.
    """
    rows = [
        # deadline, submitted, returned, assigned, accepted, status
        ((4, 20), (4, 18), 0, (4, 1), (4, 2), "submitted"),
        ((5, 10), (5, 15), 1, (4, 10), (4, 20), "submitted"),
        ((6, 10), None, 0, (5, 6), None, "accepted"),
        ((6, 20), (6, 19), 0, (6, 1), (6, 2), "submitted"),
        ((6, 25), None, 0, (6, 3), None, "sent_back"),
    ]
    for deadline, submitted, returned, assigned, accepted, status in rows:
        _lead, a = make_lead("housing", now=aware(2026, *assigned))
        Assignment.objects.filter(pk=a.pk).update(
            deadline=aware(2026, *deadline, 23, 59),
            submitted_at=aware(2026, *submitted) if submitted else None,
            returned_count=returned,
            assigned_at=aware(2026, *assigned),
            accepted_at=aware(2026, *accepted) if accepted else None,
            status=status,
            result="substantiated" if status == "submitted" else "",
            findings="查明" if status == "submitted" else "",
        )
    for day in (dt.date(2026, 4, 15), dt.date(2026, 6, 1)):
        PublicityActivity.objects.create(
            unit=units["housing"], held_on=day, kind="meeting", created_by=users["office"]
        )
    PublicityActivity.objects.create(  # outside the quarter: not counted
        unit=units["housing"], held_on=dt.date(2026, 7, 2), kind="meeting", created_by=users["office"]
    )
    action = issued(now=aware(2026, 5, 6))
    one, two = action.items.order_by("seq")
    one.status, one.accepted_at = ItemStatus.ACCEPTED, aware(2026, 6, 1)
    one.save(update_fields=["status", "accepted_at"])
    two.overdue_at = aware(2026, 6, 15)
    two.save(update_fields=["overdue_at"])
    UnitTask.objects.create(
        unit=units["housing"],
        title="按期完成",
        deadline=aware(2026, 6, 5, 23, 59),
        assigned_by=users["office"],
        assigned_at=aware(2026, 5, 1),
        status="done",
        submitted_at=aware(2026, 6, 3),
        completed_at=aware(2026, 6, 3),
    )
    UnitTask.objects.create(
        unit=units["housing"],
        title="逾期未完成",
        deadline=aware(2026, 6, 20, 23, 59),
        assigned_by=users["office"],
        assigned_at=aware(2026, 5, 1),
    )
    return units


@pytest.mark.django_db
def test_quarter_score_matches_hand_computation(q2):
    rows = assessments.assessments_compute(
        kind="quarter", day=Q2, units=[q2["housing"], q2["transport"]], now=NOW
    )
    housing = next(r for r in rows if r.unit.code == "housing")
    raw, detail = housing.metrics["raw"], housing.metrics["detail"]
    assert (raw["due"], raw["on_time"], raw["returned"], raw["handled"]) == (4, 2, 1, 3)
    assert (
        raw["not_accepted"],
        raw["publicity"],
        raw["open_rectifications"],
        raw["overdue_rectifications"],
        raw["overdue_tasks"],
    ) == (2, 2, 1, 1, 1)
    # on time: 2 of 4 due → 30 × 0.5                      = 15.00
    assert Decimal(detail["on_time"]["score"]) == Decimal("15.00")
    # returned: 1 of 4 → 15 × (1 − 0.25)                  = 11.25
    assert Decimal(detail["returned"]["score"]) == Decimal("11.25")
    # handled: 3 leads vs (construction 60 + building 40) / 4 = 25 → 20 × 3/25 = 2.40
    assert Decimal(raw["expected"]) == Decimal("25.00")
    assert Decimal(detail["handled"]["score"]) == Decimal("2.40")
    # acceptance: 2 not signed for in time → 10 − 2 × 2   = 6.00
    assert Decimal(detail["acceptance"]["score"]) == Decimal("6.00")
    # publicity: 2 of 3 → 10 × 2/3                        = 6.67
    assert Decimal(detail["publicity"]["score"]) == Decimal("6.67")
    # rectification: 1 open (−1), 1 overdue (−3) → 10 − 4 = 6.00
    assert Decimal(detail["rectification"]["score"]) == Decimal("6.00")
    # tasks: 1 overdue → 5 − 2.5                          = 2.50
    assert Decimal(detail["tasks"]["score"]) == Decimal("2.50")
    # total 15 + 11.25 + 2.40 + 6 + 6.67 + 6 + 2.50        = 49.82 → fail (below 60)
    assert housing.computed_score == Decimal("49.82") and housing.score == Decimal("49.82")
    assert housing.grade == Grade.FAIL and not housing.vetoed
    # transport has nothing due: 30 + 15 + 0 (0 of 16.25 expected) + 10 + 0 + 10 + 5 = 70 → pass, ranked first
    transport = next(r for r in rows if r.unit.code == "transport")
    assert transport.score == Decimal("70.00") and transport.grade == Grade.PASS
    assert (transport.rank, housing.rank) == (1, 2)


@pytest.mark.django_db
def test_weights_come_from_settings(q2, settings):
    settings.ACCOUNTABILITY = {
        "ASSESSMENT": {
            "weights": {
                "on_time": 50,
                "returned": 10,
                "handled": 10,
                "publicity": 10,
                "acceptance": 10,
                "rectification": 5,
                "tasks": 5,
            },
        }
    }
    row = assessments.assessments_compute(kind="quarter", day=Q2, units=[q2["housing"]], now=NOW)[0]
    # 50×0.5 + 10×0.75 + 10×0.12 + 10×2/3 + (10−4) + max(0, 5−4) + (5−2.5)
    # = 25 + 7.5 + 1.2 + 6.67 + 6 + 1 + 2.5 = 49.87
    assert row.computed_score == Decimal("49.87")


@pytest.mark.django_db
def test_adjustment_needs_a_reason_is_logged_and_recompute_keeps_it(q2, users):
    row = assessments.assessments_compute(kind="quarter", day=Q2, units=[q2["housing"]], now=NOW)[0]
    with pytest.raises(WorkflowError) as exc:
        assessments.assessment_adjust(
            assessment_id=row.pk, actor=users["office"], adjustment="abc", reason=""
        )
    assert {"adjustment", "reason"} <= set(exc.value.errors)
    with pytest.raises(WorkflowError) as exc:
        assessments.assessment_adjust(assessment_id=row.pk, actor=users["leader"], adjustment=5, reason="x")
    assert exc.value.kind == "forbidden"
    row = assessments.assessment_adjust(
        assessment_id=row.pk, actor=users["office"], adjustment="15", reason="承办线索多为历史积案，难度大"
    )
    # 49.82 + 15 = 64.82 → pass
    assert row.score == Decimal("64.82") and row.grade == Grade.PASS
    assert AssessmentAdjustment.objects.get(assessment=row).reason == "承办线索多为历史积案，难度大"
    assert AuditEntry.objects.filter(
        action="accountability.assessment_adjust", target_id=str(row.pk)
    ).exists()
    row = assessments.assessments_compute(kind="quarter", day=Q2, units=[q2["housing"]], now=NOW)[0]
    assert row.adjustment == Decimal("15.00") and row.score == Decimal("64.82")


@pytest.mark.django_db
def test_a_veto_fails_the_unit_whatever_the_score(q2, users, issued):
    row = assessments.assessments_compute(
        kind="quarter", day=Q2, units=[q2["housing"], q2["transport"]], now=NOW
    )
    housing = Assessment.objects.get(unit__code="housing", period_kind="quarter")
    assessments.assessment_adjust(
        assessment_id=housing.pk, actor=users["office"], adjustment="50", reason="测试"
    )
    housing.refresh_from_db()
    assert housing.score == Decimal("99.82") and housing.grade == Grade.EXCELLENT and housing.rank == 1
    veto = issued(kind=ActionKind.VETO, items=[], now=aware(2026, 6, 25))
    housing.refresh_from_db()  # applied at once to the existing assessments of the period
    assert (
        housing.vetoed and housing.grade == Grade.FAIL and housing.veto_action == veto and housing.rank == 2
    )
    row = assessments.assessments_compute(kind="quarter", day=Q2, units=[q2["housing"]], now=NOW)[0]
    assert row.vetoed and row.grade == Grade.FAIL and row.score == Decimal("99.82")
    year = assessments.assessments_compute(kind="year", day=Q2, units=[q2["housing"]], now=NOW)[0]
    assert year.vetoed and year.grade == Grade.FAIL
    q3 = assessments.assessments_compute(
        kind="quarter", day=dt.date(2026, 8, 1), units=[q2["housing"]], now=aware(2026, 9, 1)
    )[0]
    assert not q3.vetoed


@pytest.mark.django_db
def test_nightly_task_computes_current_periods(campaign_data):
    from accountability.tasks import assessments_compute_nightly

    counts = assessments_compute_nightly()
    units = assessments.assessed_units().count()
    assert counts["assessments"] >= 2 * units
    assert Assessment.objects.filter(period_kind="year").count() == units


def test_period_bounds():
    assert assessments.period_bounds("quarter", dt.date(2026, 11, 29)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert assessments.period_bounds("quarter", dt.date(2026, 2, 28)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    assert assessments.period_bounds("year", dt.date(2026, 5, 5)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    assert timezone.now()  # settings loaded
