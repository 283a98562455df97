"""周通报: generated every week from the data — per unit and district: received, closed, closure rate,
substantiation rate, on-time rate, red lights, overdue, ranking — as an Excel workbook and an official
document, reviewed and issued by the office."""

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from accountability.bulletin import (
    bulletin_document,
    bulletin_generate,
    bulletin_issue,
    bulletin_update_remarks,
    generate_weekly,
)
from accountability.documents import render_html
from accountability.workflow import WorkflowError
from leads.models import Bulletin
from leads.stats import region_period_stats, unit_period_stats

from .conftest import at
from .helpers import registered, sign_off, step

pytestmark = pytest.mark.django_db
WEEK = dt.date(2026, 3, 2)
NOW = at("2026-03-09 08:00")


@pytest.fixture
def figures(users, sectors, regions):
    """housing: one closed on time (属实), one still open and overdue; transport: one closed late (查否);
    a restricted lead that must not count anywhere."""
    a = registered(users, sectors, regions, now=at("2026-02-02 09:00"), region="xiuwu", days=5)
    step(users, a, "accept", "liaison_housing", now=at("2026-02-02 10:00"))
    sign_off(users, a, "liaison_housing", result="substantiated", findings="属实。")
    step(users, a, "submit_result", "liaison_housing", now=at("2026-02-05 10:00"))
    step(users, a, "close", "office", now=at("2026-03-03 10:00"), disposition="criminal_case")
    registered(users, sectors, regions, now=at("2026-02-02 09:00"), region="xiuwu", days=5)  # overdue by NOW
    c = registered(
        users, sectors, regions, now=at("2026-03-02 09:00"), region="boai", units=["transport"], days=2
    )
    step(users, c, "accept", "liaison_transport", now=at("2026-03-02 10:00"))
    sign_off(users, c, "liaison_transport", result="unsubstantiated", findings="查否。")
    step(users, c, "submit_result", "liaison_transport", now=at("2026-03-06 10:00"))  # after its deadline
    step(users, c, "close", "office_leader", now=at("2026-03-06 15:00"), disposition="no_action")
    registered(users, sectors, regions, now=at("2026-03-03 09:00"), region="boai", restricted=True)


def _row(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_unit_figures_and_ranking(figures):
    rows = unit_period_stats(start=at("2026-03-02 00:00"), end=at("2026-03-09 00:00"), now=NOW)
    housing, transport = _row(rows, "unit", "housing"), _row(rows, "unit", "transport")
    assert (housing["week"], housing["total"], housing["closed"], housing["found"], housing["on_time"]) == (
        0,
        2,
        1,
        1,
        1,
    )
    assert (housing["closure_rate"], housing["substantiation_rate"], housing["on_time_rate"]) == (
        Decimal("50.0"),
        Decimal("100.0"),
        Decimal("100.0"),
    )
    assert (housing["overdue"], housing["red"]) == (1, 0)
    assert (transport["week"], transport["total"], transport["closed"], transport["found"]) == (1, 1, 1, 0)
    assert (transport["closure_rate"], transport["substantiation_rate"], transport["on_time_rate"]) == (
        Decimal("100.0"),
        Decimal("0.0"),
        Decimal("0.0"),
    )
    assert (transport["rank"], housing["rank"]) == (1, 2)
    assert _row(rows, "unit", "market")["rank"] is None  # received nothing: not ranked
    assert "office" not in {r["unit"] for r in rows}


def test_district_figures_leave_restricted_leads_out(figures):
    rows = region_period_stats(start=at("2026-03-02 00:00"), end=at("2026-03-09 00:00"), now=NOW)
    xiuwu, boai = _row(rows, "region", "xiuwu"), _row(rows, "region", "boai")
    assert (xiuwu["total"], xiuwu["closed"], xiuwu["overdue"], xiuwu["on_time"]) == (2, 1, 1, 1)
    assert (boai["week"], boai["total"], boai["closed"], boai["found"], boai["on_time"]) == (1, 1, 1, 0, 0)


def test_generating_the_bulletin_freezes_figures_workbook_and_document(figures, settings, tmp_path):
    from openpyxl import load_workbook

    settings.MEDIA_ROOT = tmp_path
    bulletin = bulletin_generate(start=WEEK + dt.timedelta(days=3), now=NOW)  # any day of the week
    assert bulletin.period_start == WEEK and bulletin.period_end == dt.date(2026, 3, 8)
    assert bulletin.title == "2026年第10周（3月2日—3月8日）扫黑除恶线索办理情况通报"
    assert bulletin.data["totals"]["total"] == 3  # the restricted lead is not counted
    wb = load_workbook(io.BytesIO(bulletin.workbook.read()))
    assert wb.sheetnames == ["成员单位", "县（市、区）", "说明"]
    units = list(wb["成员单位"].iter_rows(min_row=3, values_only=True))
    assert units[0][:6] == ("排名", "成员单位", "本周交办", "累计交办", "累计办结", "办结率")
    assert units[1][:6] == (1, "市交通运输局", 1, 1, 1, 1.0)
    assert wb["成员单位"].cell(row=4, column=6).number_format == "0.0%"
    html = render_html(bulletin_document(Bulletin.objects.get(pk=bulletin.pk)))
    assert "关于2026年第10周扫黑除恶线索办理情况的通报" in html
    assert "现将2026年第10周（3月2日—3月8日）扫黑除恶线索办理情况通报如下：" in html
    assert "市交通运输局" in html and "gw-table" in html and "gw-draft" in html
    assert "（印发时分配文号）" in html
    # Redrawn while a draft: the same row, a new version.
    again = bulletin_generate(start=WEEK, now=NOW)
    assert again.pk == bulletin.pk and again.version == bulletin.version + 1


def test_the_office_reviews_and_issues_it(figures, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bulletin = bulletin_generate(start=WEEK, now=NOW)
    with pytest.raises(WorkflowError) as exc:
        bulletin_update_remarks(bulletin_id=bulletin.pk, actor=users["office"], remarks=" ")
    assert exc.value.errors == {"remarks": ["请填写通报意见（存在问题和工作要求）。"]}
    with pytest.raises(WorkflowError) as exc:
        bulletin_issue(bulletin_id=bulletin.pk, actor=users["liaison_housing"])
    assert exc.value.kind == "forbidden"
    bulletin_update_remarks(
        bulletin_id=bulletin.pk, actor=users["office"], remarks="（一）存在的问题。市住建局有超期线索。"
    )
    issued = bulletin_issue(bulletin_id=bulletin.pk, actor=users["office"])
    assert issued.status == "issued" and issued.doc_number.startswith("焦扫黑办通〔")
    html = render_html(bulletin_document(Bulletin.objects.get(pk=bulletin.pk)))
    assert issued.doc_number in html and "gw-draft" not in html and "市住建局有超期线索。" in html
    with pytest.raises(WorkflowError):
        bulletin_generate(start=WEEK, now=NOW)
    with pytest.raises(WorkflowError):
        bulletin_update_remarks(bulletin_id=bulletin.pk, actor=users["office"], remarks="改。")
    from campaign.models import Notification

    assert Notification.objects.filter(user=users["liaison_housing"], kind="bulletin_issued").exists()


def test_pages_drafts_for_the_office_issued_for_units(figures, users, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bulletin = bulletin_generate(start=WEEK, now=NOW)
    office = client_as("office")
    page = office.get(reverse("bulletin:detail", args=[bulletin.pk])).content.decode()
    assert 'id="bulletin-units"' in page and 'id="issue-bulletin"' in page
    assert office.get(reverse("bulletin:workbook", args=[bulletin.pk]))["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert office.get(reverse("bulletin:document", args=[bulletin.pk])).status_code == 200
    assert client_as("liaison_housing").get(reverse("bulletin:detail", args=[bulletin.pk])).status_code == 404
    assert client_as("police").get(reverse("bulletin:list")).status_code == 403
    response = client_as("office").post(
        reverse("bulletin:detail", args=[bulletin.pk]), {"op": "remarks", "remarks": ""}
    )
    assert response.status_code == 400 and "请填写通报意见" in response.content.decode()
    response = client_as("office").post(
        reverse("bulletin:detail", args=[bulletin.pk]),
        {"op": "issue", "version": bulletin.version},
        follow=True,
    )
    assert "周通报已印发" in response.content.decode()
    liaison = client_as("liaison_housing")
    assert liaison.get(reverse("bulletin:detail", args=[bulletin.pk])).status_code == 200
    assert bulletin.title in liaison.get(reverse("bulletin:list")).content.decode()


def test_the_weekly_beat_draws_up_last_weeks_bulletin(figures, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with mock.patch("accountability.bulletin.timezone.localdate", return_value=dt.date(2026, 3, 9)):
        pk = generate_weekly()
    assert Bulletin.objects.get(pk=pk).period_start == WEEK
    assert "accountability.bulletin.generate_weekly" in {
        e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()
    }
