"""Exports: dashboard views in the request, registers and reports in a worker; files opened with openpyxl."""

import csv
import datetime as dt
import io
import uuid

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from campaign.models import AuditEntry
from dashboard import exports
from dashboard.models import ExportJob
from dashboard.tasks import export_run as export_run_task

from .factories import make_tip

pytestmark = pytest.mark.django_db


def period(world, **extra):
    return {
        "period": "custom",
        "date_from": world["d"](20).isoformat(),
        "date_to": world["today"].isoformat(),
        **extra,
    }


def workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def rows_of(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def find_row(sheet, label):
    for row in sheet.iter_rows(values_only=True):
        if row and row[0] == label:
            return row
    raise AssertionError(f"{label} not in {sheet.title}")


# --- dashboard views, built in the request ------------------------------------------------------------------
def test_overview_exports_to_excel_with_the_pages_numbers(world, client_as):
    response = client_as("office_leader").get(
        reverse("dashboard:export-view", args=["overview", "xlsx"]), period(world)
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = workbook(response.content)
    sheet = wb["总览"]
    assert sheet["A1"].value == "扫黑除恶线索工作总览"
    assert find_row(sheet, "所选时段举报")[1:3] == (6, 2)
    assert find_row(sheet, "查实（含部分属实）")[1] == 3
    assert find_row(sheet, "其中查否办结（不计入查实）")[1] == 1
    audit = AuditEntry.objects.get(action="export.download")
    assert audit.actor == world["users"]["office_leader"]
    assert audit.data["kind"] == "dashboard.overview" and audit.data["mode"] == "direct"


def test_matrix_export_has_the_grid_and_the_blind_spot_list(world, client_as):
    response = client_as("leader").get(
        reverse("dashboard:export-view", args=["matrix", "xlsx"]), period(world)
    )
    wb = workbook(response.content)
    assert wb.sheetnames == ["查实线索", "登记线索", "盲区清单", "无案件行业与单位"]
    found = wb["查实线索"]
    header = next(r for r in found.iter_rows(values_only=True) if r and r[0] == "行业领域")
    construction = find_row(found, "工程建设")
    assert construction[header.index("解放区")] == 1
    blind = rows_of(wb["盲区清单"])
    # Title, subtitle, header, then one row per blind cell (the leader does not count the restricted lead).
    assert len(blind) - 3 == 132 - 2


def test_csv_export_opens_in_excel_and_keeps_chinese(world, client_as):
    response = client_as("office").get(reverse("dashboard:export-view", args=["units", "csv"]), period(world))
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "单位", "承办"]
    housing = next(r for r in rows if r[1] == "市住建局")
    assert housing[5] == "66.7"


def test_view_exports_refuse_roles_and_bad_input(world, client_as):
    url = reverse("dashboard:export-view", args=["overview", "xlsx"])
    assert client_as("liaison_housing").get(url).status_code == 403
    client = client_as("leader")
    assert client.get(reverse("dashboard:export-view", args=["secrets", "xlsx"])).status_code == 404
    response = client.get(reverse("dashboard:export-view", args=["overview", "pdf"]))
    assert response.status_code == 302
    response = client.get(url, {"period": "custom", "date_from": "2026-02-30"}, follow=True)
    assert "导出条件有误" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export.download").exists()


def test_cells_never_become_formulas():
    assert exports.cell_value('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert exports.cell_value("+86 138") == "'+86 138"
    assert exports.cell_value("@SUM(A1)") == "'@SUM(A1)"
    assert exports.cell_value(-5) == -5
    aware = timezone.make_aware(dt.datetime(2026, 5, 1, 8, 30))
    assert exports.cell_value(aware) == dt.datetime(2026, 5, 1, 8, 30)


# --- jobs: registers and reports --------------------------------------------------------------------------
def run_job(job):
    exports.export_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_export_job_is_queued_after_commit_and_audited(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(export_run_task, "delay", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = exports.export_job_create(
            user=world["users"]["leader"], kind="dashboard.report", params={"report": "weekly"}, fmt="xlsx"
        )
    assert len(callbacks) == 1
    assert queued == [{"job_id": str(job.pk)}]
    assert job.status == "pending"
    audit = AuditEntry.objects.get(action="export.create")
    assert audit.target_id == str(job.pk) and audit.data["kind"] == "dashboard.report"


def test_weekly_report_workbook_has_the_usual_sheets(world):
    today = world["today"]
    job = exports.export_job_create(
        user=world["users"]["office_leader"],
        kind="dashboard.report",
        params={"report": "weekly", "date": today.isoformat()},
    )
    job = run_job(job)
    assert job.status == "done" and job.progress == 100 and job.file
    wb = openpyxl.load_workbook(exports.export_path(job))
    assert wb.sheetnames == ["汇总", "分行业", "分地区", "分单位", "超期清单"]
    title = wb["汇总"]["A1"].value
    assert title.startswith("焦作市扫黑除恶专项斗争线索办理情况周报")
    overdue = rows_of(wb["超期清单"])
    numbers = [r[1] for r in overdue[4:]]
    assert numbers == [world["leads"]["overdue"].number]
    assert find_row(wb["汇总"], "截至目前超期（条）")[1] == 1
    sectors = wb["分行业"]
    assert find_row(sectors, "合计")[0] == "合计"


def test_monthly_report_and_bad_report_parameters(world):
    user = world["users"]["leader"]
    job = run_job(exports.export_job_create(user=user, kind="dashboard.report", params={"report": "monthly"}))
    assert job.status == "done"
    assert "月报" in openpyxl.load_workbook(exports.export_path(job))["汇总"]["A1"].value
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        exports.export_job_create(user=user, kind="dashboard.report", params={"report": "daily"})
    assert "report" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        exports.export_job_create(
            user=user, kind="dashboard.report", params={"report": "weekly", "date": "someday"}
        )
    assert "date" in err.value.message_dict
    with pytest.raises(ValidationError):
        exports.export_job_create(user=user, kind="dashboard.report", params={}, fmt="pdf")
    assert ExportJob.objects.count() == 1


def test_tip_register_export_is_scoped_and_safe(world):
    housing = world["units"]["housing"]
    make_tip(day=world["today"], description='=HYPERLINK("http://evil","点我")', unit=housing)
    make_tip(day=world["today"], description="另一单位的举报", unit=world["units"]["transport"])
    job = run_job(
        exports.export_job_create(user=world["users"]["liaison_housing"], kind="reports.tips", params={})
    )
    assert job.status == "done" and job.rows == 1
    sheet = openpyxl.load_workbook(exports.export_path(job))["举报登记簿"]
    rows = rows_of(sheet)
    assert rows[-1][-1] == '\'=HYPERLINK("http://evil","点我")'
    everything = run_job(
        exports.export_job_create(
            user=world["users"]["office"], kind="reports.tips", params={"channel": "phone"}
        )
    )
    assert everything.rows == 2


def test_lead_register_export_follows_lead_visibility(world):
    office = run_job(
        exports.export_job_create(user=world["users"]["office"], kind="leads.register", params={})
    )
    leader = run_job(
        exports.export_job_create(user=world["users"]["office_leader"], kind="leads.register", params={})
    )
    assert leader.rows == office.rows + 1  # the restricted lead
    liaison = run_job(
        exports.export_job_create(user=world["users"]["liaison_transport"], kind="leads.register", params={})
    )
    assert liaison.rows == 2


def test_unknown_kinds_and_roles_are_refused(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError):
        exports.export_job_create(user=world["users"]["leader"], kind="everything", params={})
    with pytest.raises(PermissionDenied):
        exports.export_job_create(user=world["users"]["liaison_housing"], kind="dashboard.report", params={})
    assert not ExportJob.objects.exists()


def test_a_job_that_fails_says_why_and_leaves_no_file(world):
    job = exports.export_job_create(user=world["users"]["leader"], kind="dashboard.overview", params={})

    def boom(**_kw):
        raise RuntimeError("disk full")

    exports._EXPORTERS["boom"] = exports.Exporter("boom", "boom", frozenset({"leader"}), boom)
    try:
        job.kind = "boom"
        job.save(update_fields=["kind"])
        job = run_job(job)
    finally:
        exports._EXPORTERS.pop("boom")
    assert job.status == "failed" and "RuntimeError" in job.error and not job.file
    assert not list(exports.export_dir().glob(f"{job.pk}*"))


def test_running_a_job_twice_writes_it_once(world):
    job = run_job(exports.export_job_create(user=world["users"]["leader"], kind="dashboard.units", params={}))
    finished = job.finished_at
    assert exports.export_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.finished_at == finished


def test_status_and_download_belong_to_the_owner_until_expiry(world, client_as, client):
    job = run_job(
        exports.export_job_create(user=world["users"]["leader"], kind="dashboard.matrix", params={})
    )
    leader = client_as("leader")
    status = leader.get(reverse("dashboard:export-status", args=[job.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"] == reverse("dashboard:export-download", args=[job.pk])
    response = leader.get(status["download_url"])
    assert response.status_code == 200
    assert (
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).sheetnames[0] == "查实线索"
    )
    assert AuditEntry.objects.filter(action="export.download", target_id=str(job.pk)).count() == 1
    # Someone else, even the office, gets the same answer as for a job that does not exist.
    office = client_as("office")
    assert office.get(reverse("dashboard:export-status", args=[job.pk])).status_code == 404
    assert office.get(reverse("dashboard:export-download", args=[job.pk])).status_code == 404
    assert office.get(reverse("dashboard:export-status", args=[uuid.uuid4()])).status_code == 404
    # Expired: refused at once, and the hourly sweep deletes the file.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    leader = client_as("leader")
    assert leader.get(reverse("dashboard:export-download", args=[job.pk])).status_code == 404
    path = exports.export_path(job)
    assert exports.export_jobs_expire() == 1
    assert not path.exists()
    job.refresh_from_db()
    assert job.status == "expired" and job.file == ""


def test_export_pages(world, client_as):
    client = client_as("office")
    response = client.get(reverse("dashboard:export-new"), {"kind": "reports.tips", "status": "new"})
    assert response.status_code == 200 and "举报登记簿" in response.content.decode()
    response = client.post(
        reverse("dashboard:export-new"), {"kind": "reports.tips", "status": "bogus", "fmt": "xlsx"}
    )
    assert response.status_code == 400 and "status" in response.content.decode()
    assert not ExportJob.objects.exists()
    response = client.post(
        reverse("dashboard:export-new"), {"kind": "reports.tips", "status": "new", "fmt": "csv"}
    )
    job = ExportJob.objects.get()
    assert response.status_code == 302 and str(job.pk) in response["Location"]
    assert job.params == {"status": "new"} and job.fmt == "csv"
    listing = client.get(reverse("dashboard:exports")).content.decode()
    assert f'data-job="{job.pk}"' in listing and 'data-status="pending"' in listing
    assert client.get(reverse("dashboard:export-new"), {"kind": "nothing"}).status_code == 404
    assert (
        client_as("liaison_housing")
        .get(reverse("dashboard:export-new"), {"kind": "dashboard.report"})
        .status_code
        == 403
    )


@pytest.mark.slow
def test_a_real_worker_makes_the_report_with_progress(world, client_as, celery_worker_process, settings):
    from tests.conftest import wait_for

    celery_worker_process(queues="default")
    client = client_as("leader")
    response = client.post(
        reverse("dashboard:export-new"),
        {"kind": "dashboard.report", "report": "weekly", "date": world["today"].isoformat(), "fmt": "xlsx"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    status_url = reverse("dashboard:export-status", args=[response.json()["id"]])
    done = wait_for(
        lambda: (s := client.get(status_url).json())["status"] in ("done", "failed") and s, timeout=60
    )
    assert done["status"] == "done", done
    content = b"".join(client.get(done["download_url"]).streaming_content)
    assert openpyxl.load_workbook(io.BytesIO(content)).sheetnames[-1] == "超期清单"
