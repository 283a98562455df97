"""回告: a first report-back within N working days of signing, stage reports when the office asks, the final
one with the result; each a timeline entry with attachments; a missing one triggers a reminder."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaign.models import Notification
from leads.models import LeadAttachment, LeadEvent, ReportBack, StageReportRequest
from leads.practice_sweep import practice_sweep
from leads.workflow import TransitionError

from .conftest import at
from .helpers import assignment_of, registered, sign_off, step

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def signed(users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 09:00"))
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-02 10:00"))
    return lead


def test_first_report_is_due_five_working_days_after_signing(signed):
    assert assignment_of(signed, "housing").first_report_due == at("2026-03-09 23:59:59")


def test_first_report_is_a_timeline_entry_with_attachments(signed, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(TransitionError) as exc:
        step(users, signed, "report_first", "liaison_housing", now=at("2026-03-03 10:00"), note="")
    assert exc.value.errors == {"note": ["请填写回告内容。"]}
    photo = SimpleUploadedFile("现场.png", PNG)
    step(
        users,
        signed,
        "report_first",
        "liaison_housing",
        now=at("2026-03-03 10:00"),
        note="已成立核查组，调取了施工合同。",
        attachments=[photo],
    )
    report = ReportBack.objects.get()
    assert (report.kind, report.body, report.is_late) == ("first", "已成立核查组，调取了施工合同。", False)
    assert report.event.action == "report_first" and report.event.note == report.body
    assert LeadAttachment.objects.get().event_id == report.event_id
    assert assignment_of(signed, "housing").first_report_at == at("2026-03-03 10:00")
    with pytest.raises(TransitionError) as exc:
        step(users, signed, "report_first", "liaison_housing", now=at("2026-03-04 10:00"), note="再报")
    assert exc.value.message == "已报送首次回告。"


def test_a_late_first_report_is_marked_late(signed, users):
    step(users, signed, "report_first", "liaison_housing", now=at("2026-03-10 08:00"), note="迟报。")
    assert ReportBack.objects.get().is_late
    assert LeadEvent.objects.get(action="report_first").data["late"] is True


def test_missing_first_report_triggers_one_reminder_after_its_day(signed, users):
    Notification.objects.all().delete()
    assert practice_sweep(now=at("2026-03-09 23:00"))["first_report_reminded"] == 0
    assert practice_sweep(now=at("2026-03-10 00:30"))["first_report_reminded"] == 1
    notice = Notification.objects.get(user=users["liaison_housing"], kind="report_reminder")
    assert "首次回告已超期" in notice.title
    assert practice_sweep(now=at("2026-03-11 09:00"))["first_report_reminded"] == 0
    assert LeadEvent.objects.filter(action="report_reminder").count() == 1


def test_a_filed_first_report_is_not_reminded(signed, users):
    step(users, signed, "report_first", "liaison_housing", now=at("2026-03-03 10:00"), note="进展。")
    assert practice_sweep(now=at("2026-03-20 09:00"))["first_report_reminded"] == 0


def test_stage_reports_when_the_office_asks(signed, users):
    with pytest.raises(TransitionError) as exc:
        step(users, signed, "report_stage", "liaison_housing", now=at("2026-03-03 10:00"), note="x")
    assert exc.value.message == "请先报送首次回告。"
    with pytest.raises(TransitionError) as exc:
        step(users, signed, "request_stage_report", "office", now=at("2026-03-04 10:00"), note="")
    assert exc.value.errors == {"note": ["请填写阶段回告的要求。"]}
    step(
        users,
        signed,
        "request_stage_report",
        "office",
        now=at("2026-03-04 10:00"),
        note="请报告走访进展。",
        days=2,
    )
    request = StageReportRequest.objects.get()
    assert request.due_at == at("2026-03-06 23:59:59")
    assert Notification.objects.filter(user=users["liaison_housing"], kind="lead_stage_report").exists()
    # Asked: a stage report is possible even before the first one, and it answers the request.
    step(users, signed, "report_stage", "liaison_housing", now=at("2026-03-05 10:00"), note="走访了3人。")
    request.refresh_from_db()
    assert request.status == "fulfilled"
    report = ReportBack.objects.get(kind="stage")
    assert report.stage_request == request and not report.is_late


def test_an_unanswered_stage_request_is_reminded_once(signed, users):
    step(
        users,
        signed,
        "request_stage_report",
        "office",
        now=at("2026-03-04 10:00"),
        note="请报告进展。",
        days=1,
    )
    assert practice_sweep(now=at("2026-03-05 23:00"))["stage_report_reminded"] == 0
    assert practice_sweep(now=at("2026-03-06 00:10"))["stage_report_reminded"] == 1
    assert practice_sweep(now=at("2026-03-06 09:10"))["stage_report_reminded"] == 0
    assert LeadEvent.objects.get(action="stage_reminder").data["kind"] == "stage"


def test_final_report_is_the_submitted_result(signed, users):
    sign_off(users, signed, "liaison_housing", result="partly", findings="部分属实，已责令整改。")
    step(users, signed, "submit_result", "liaison_housing", now=at("2026-03-12 10:00"))
    final = ReportBack.objects.get(kind="final")
    assert final.body == "部分属实，已责令整改。" and final.event.action == "submit_result"
    assert final.due_at == assignment_of(signed, "housing").deadline


def test_report_backs_appear_on_the_page_and_in_the_api(signed, users, client_as, api_as):
    from django.urls import reverse

    step(users, signed, "report_first", "liaison_housing", now=at("2026-03-03 10:00"), note="已成立核查组。")
    page = client_as("office").get(reverse("leads:detail", args=[signed.pk])).content.decode()
    assert 'id="report-backs"' in page and "已成立核查组。" in page
    body = api_as("office").get(f"/api/v1/leads/{signed.pk}/report-backs/").json()
    assert [(r["kind"], r["unit"], r["body"]) for r in body] == [("first", "housing", "已成立核查组。")]
    # A co-unit does not read another unit's report-backs.
    step(users, signed, "assign", "office", now=at("2026-03-03 11:00"), units=["transport"])
    assert api_as("liaison_transport").get(f"/api/v1/leads/{signed.pk}/report-backs/").json() == []
