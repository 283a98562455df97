"""Exports to Excel and CSV, for every register and dashboard view: the one machinery all apps reuse.

A document is a list of sheets (title, columns, rows); `write_xlsx` / `write_csv` stream it to a file
with constant memory (openpyxl write-only mode, rows pulled from an iterator), so a register of a
million rows costs the same memory as a page.

Two ways to run one:

- small (dashboard views): `export_response(...)` builds the file in the request and returns it;
- large (registers, the weekly and monthly reports): `export_job_create(...)` records an ExportJob and
  queues `dashboard.tasks.export_run` on the default queue; the page polls the job's status URL for a
  progress bar and gets a download link when it is done. Files live under MEDIA_ROOT/exports, are
  served only to the user who made them (a permission-checking view) and expire after
  EXPORT_TTL_HOURS (a beat task deletes them).

Every export, either way, and every download of a finished file, is written to the audit log.

Adding an export: register an `Exporter` (a name, the roles that may run it, a `build(user, params)`
that returns an ExportDocument scoped to that user, and optionally `validate(params)`) from the dashboard
app (dashboard/registers.py holds the register exporters, so the lower apps never import the
dashboard). A register page only needs a link: `{% url 'dashboard:export-new' %}?kind=<name>&<its query>`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.audit import audit_record

from .conf import dashboard_setting
from .models import ExportJob

log = logging.getLogger(__name__)

EXPORT_DIR_NAME = "exports"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


# --- documents ----------------------------------------------------------------------------------------
@dataclass
class Column:
    header: str
    width: float = 14
    # "text" | "int" | "decimal" | "percent" (a number like 87.5, shown with one decimal) | "date" | "datetime"
    kind: str = "text"


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: Iterable[Sequence]
    heading: str = ""
    notes: list[str] = field(default_factory=list)
    # For the progress bar; None when unknown (progress then moves per sheet).
    total: int | None = None


@dataclass
class ExportDocument:
    title: str
    sheets: list[Sheet]
    # Shown in the first rows of every sheet: the filters, who made it, when.
    subtitle: str = ""

    def filename(self, fmt: str) -> str:
        return safe_filename(self.title, timezone.now(), fmt)


def safe_filename(title: str, when: dt.datetime, fmt: str) -> str:
    safe = "".join(ch for ch in str(title) if ch not in '\\/:*?"<>|\r\n').strip() or "export"
    return f"{safe}-{timezone.localtime(when):%Y%m%d-%H%M}.{fmt}"


def job_filename(job: ExportJob) -> str:
    return safe_filename(job.title, job.finished_at or job.created_at, job.fmt)


# Spreadsheet programs run text starting with these as formulas (CSV/formula injection): informant
# text must never become a formula in an office computer, so such text gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value):
    """A value safe and meaningful in a spreadsheet cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


ProgressFn = Callable[[int], None]


def _rows_with_progress(rows: Iterable[Sequence], progress: ProgressFn | None) -> Iterator[Sequence]:
    every = dashboard_setting("EXPORT_PROGRESS_EVERY")
    n = 0
    for row in rows:
        yield row
        n += 1
        if progress and n % every == 0:
            progress(n)
    if progress:
        progress(n)


STYLED_ROWS_MAX = 5000


def write_xlsx(doc: ExportDocument, target, *, progress: ProgressFn | None = None) -> int:
    """Write the document as a workbook (one worksheet per sheet); returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    title_font = Font(name="宋体", size=14, bold=True)
    note_font = Font(name="宋体", size=9, color="555555")
    head_font = Font(name="宋体", size=10, bold=True)
    head_fill = PatternFill("solid", fgColor="E9ECEF")
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    body_font = Font(name="宋体", size=10)
    formats = {
        "int": "0",
        "decimal": "#,##0.00",
        "percent": "0.0",
        "date": "yyyy-mm-dd",
        "datetime": "yyyy-mm-dd hh:mm",
    }
    total = 0
    done_before = 0
    for sheet in doc.sheets:
        ws = wb.create_sheet(title=sheet.title[:31])
        for i, col in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False

        def styled(value, font, fill=None, fmt=None, wrap=False, ws=ws):
            cell = WriteOnlyCell(ws, value=cell_value(value))
            cell.font = font
            if fill is not None:
                cell.fill = fill
            if fmt:
                cell.number_format = fmt
            if wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            return cell

        ws.append([styled(sheet.heading or doc.title, title_font)])
        header_row = 2
        for note in ([doc.subtitle] if doc.subtitle else []) + list(sheet.notes):
            ws.append([styled(note, note_font)])
            header_row += 1
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        header = []
        for col in sheet.columns:
            cell = styled(col.header, head_font, head_fill, wrap=True)
            cell.border = border
            header.append(cell)
        ws.append(header)

        def sheet_progress(n: int, base=done_before) -> None:
            if progress:
                progress(base + n)

        # Styled cells cost several times plain ones: a register of a hundred thousand rows is written plain
        # (dates still get Excel's date format), a report's sheets are styled.
        plain = (sheet.total or 0) > STYLED_ROWS_MAX
        count = 0
        for row in _rows_with_progress(sheet.rows, sheet_progress):
            if plain:
                ws.append([cell_value(value) for value in row])
            else:
                cells = []
                for col, value in zip(sheet.columns, row, strict=False):
                    cell = styled(value, body_font, fmt=formats.get(col.kind))
                    cell.border = border
                    cells.append(cell)
                ws.append(cells)
            count += 1
        total += count
        done_before += count
    wb.save(target)
    return total


def write_csv(doc: ExportDocument, target, *, progress: ProgressFn | None = None) -> int:
    """Write the document as CSV (UTF-8 with BOM, which Excel needs for Chinese); sheets follow one another."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    total = 0
    for index, sheet in enumerate(doc.sheets):
        if index:
            writer.writerow([])
        if len(doc.sheets) > 1:
            writer.writerow([cell_value(sheet.title)])
        writer.writerow([cell_value(c.header) for c in sheet.columns])

        def sheet_progress(n: int, base=total) -> None:
            if progress:
                progress(base + n)

        for row in _rows_with_progress(sheet.rows, sheet_progress):
            writer.writerow(["" if (v := cell_value(value)) is None else v for value in row])
            total += 1
    text.flush()
    text.detach()
    return total


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


# --- exporters registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exporter:
    name: str
    label: str
    roles: frozenset[str]
    build: Callable[..., ExportDocument]  # build(*, user, params) -> ExportDocument
    validate: Callable[[dict], dict] | None = None  # returns cleaned params or raises ValidationError

    def allowed(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_active and user.role in self.roles)


_EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> None:
    _EXPORTERS[exporter.name] = exporter


def exporter_get(name: str) -> Exporter | None:
    return _EXPORTERS.get(name)


def exporters_for(user) -> list[Exporter]:
    return [e for e in _EXPORTERS.values() if e.allowed(user)]


def _check(user, kind: str, params: dict, fmt: str) -> tuple[Exporter, dict]:
    exporter = exporter_get(kind)
    if exporter is None:
        raise ValidationError({"kind": [_("没有这种导出内容。")]})
    if not exporter.allowed(user):
        raise PermissionDenied(_("您没有导出该内容的权限。"))
    if fmt not in WRITERS:
        raise ValidationError({"fmt": [_("导出格式只能是 Excel（xlsx）或 CSV。")]})
    cleaned = exporter.validate(params) if exporter.validate else dict(params)
    return exporter, cleaned


# --- files ----------------------------------------------------------------------------------------------
def export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / EXPORT_DIR_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job: ExportJob) -> Path | None:
    if not job.file:
        return None
    path = (Path(settings.MEDIA_ROOT) / job.file).resolve()
    root = export_dir().resolve()
    return path if root in path.parents else None


# --- small exports, in the request ---------------------------------------------------------------------
def export_response(*, user, kind: str, params: dict, fmt: str, ip: str | None = None) -> HttpResponse:
    """Build the export in this request and return it as a download (dashboard views: a few hundred rows)."""
    exporter, cleaned = _check(user, kind, params, fmt)
    doc = exporter.build(user=user, params=cleaned)
    buffer = io.BytesIO()
    rows = WRITERS[fmt](doc, buffer)
    audit_record(
        actor=user,
        action="export.download",
        reason=doc.title,
        data={"kind": kind, "fmt": fmt, "params": cleaned, "rows": rows, "mode": "direct"},
        ip=ip,
    )
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(True, doc.filename(fmt))
    return response


# --- large exports, in a worker -----------------------------------------------------------------------
@transaction.atomic
def export_job_create(
    *, user, kind: str, params: dict, fmt: str = "xlsx", ip: str | None = None
) -> ExportJob:
    """Record an export job and queue it for a worker (after commit). Refuses roles the exporter does not admit."""
    exporter, cleaned = _check(user, kind, params, fmt)
    job = ExportJob.objects.create(owner=user, kind=kind, title=str(exporter.label), fmt=fmt, params=cleaned)
    audit_record(
        actor=user,
        action="export.create",
        target=job,
        reason=str(exporter.label),
        data={"kind": kind, "fmt": fmt, "params": cleaned},
        ip=ip,
    )
    from .tasks import export_run as export_run_task

    transaction.on_commit(lambda: export_run_task.delay(job_id=str(job.pk)))
    return job


def _claim(job_id) -> ExportJob | None:
    """Mark the job running; None when it is finished or another worker is running it right now."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(skip_locked=True)
            .select_related("owner")
            .filter(pk=job_id, status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING])
            .first()
        )
        if job is None:
            return None
        # A running job is taken over only when its worker died (acks_late redelivery after the time limit).
        stale = timezone.now() - dt.timedelta(seconds=EXPORT_TIME_LIMIT)
        if job.status == ExportJob.Status.RUNNING and job.started_at and job.started_at > stale:
            return None
        job.status = ExportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.progress = 0
        job.save(update_fields=["status", "started_at", "progress"])
        return job


EXPORT_TIME_LIMIT = 1800  # seconds; a million-row register takes a few minutes on two cores


def export_run(*, job_id) -> ExportJob | None:
    """Write one job's file (safe to run twice: a finished job is left alone)."""
    job = _claim(job_id)
    if job is None:
        return None
    exporter = exporter_get(job.kind)
    final = export_dir() / f"{job.pk}.{job.fmt}"
    tmp = final.with_suffix(f".{job.fmt}.part")
    try:
        if exporter is None or not exporter.allowed(job.owner):
            # The owner's role may have changed since the job was queued: the export is refused then too.
            raise PermissionDenied(_("导出人已无权导出该内容。"))
        doc = exporter.build(user=job.owner, params=job.params)
        total = sum(s.total or 0 for s in doc.sheets) or None

        def progress(n: int) -> None:
            percent = min(99, int(n * 100 / total)) if total else 50
            ExportJob.objects.filter(pk=job.pk).update(progress=percent, rows=n)

        with open(tmp, "wb") as fh:
            rows = WRITERS[job.fmt](doc, fh, progress=progress)
        os.replace(tmp, final)
        now = timezone.now()
        job.status = ExportJob.Status.DONE
        job.progress = 100
        job.rows = rows
        job.title = doc.title
        job.file = f"{EXPORT_DIR_NAME}/{final.name}"
        job.size = final.stat().st_size
        job.finished_at = now
        job.expires_at = now + dt.timedelta(hours=dashboard_setting("EXPORT_TTL_HOURS"))
        job.save(
            update_fields=["status", "progress", "rows", "title", "file", "size", "finished_at", "expires_at"]
        )
    except Exception as exc:
        log.exception("export %s failed", job.pk)
        tmp.unlink(missing_ok=True)
        message = str(exc) if isinstance(exc, PermissionDenied | ValidationError) else ""
        job.status = ExportJob.Status.FAILED
        job.error = message or _("导出失败（%(error)s），请稍后重试或联系管理员。") % {
            "error": exc.__class__.__name__
        }
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_job_get_for(*, user, job_id) -> ExportJob:
    """A job of this user (another user's job is the same DoesNotExist as a missing one)."""
    return ExportJob.objects.get(pk=job_id, owner=user)


def export_download_record(*, job: ExportJob, user, ip: str | None = None) -> None:
    audit_record(
        actor=user,
        action="export.download",
        target=job,
        reason=job.title,
        data={"kind": job.kind, "fmt": job.fmt, "params": job.params, "rows": job.rows, "mode": "job"},
        ip=ip,
    )


def export_jobs_expire(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Delete the files of expired jobs and mark them expired (beat, hourly); returns how many."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            jobs = list(
                ExportJob.objects.select_for_update(skip_locked=True).filter(
                    status=ExportJob.Status.DONE, expires_at__lte=now
                )[:batch]
            )
            for job in jobs:
                path = export_path(job)
                if path is not None:
                    path.unlink(missing_ok=True)
                job.status = ExportJob.Status.EXPIRED
                job.file = ""
                job.save(update_fields=["status", "file"])
        expired += len(jobs)
        if len(jobs) < batch:
            return expired


def job_status(job: ExportJob) -> dict:
    """What the progress bar needs (the status endpoint's JSON)."""
    from django.urls import reverse

    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress,
        "rows": job.rows,
        "title": job.title,
        "error": job.error,
        "download_url": reverse("dashboard:export-download", args=[job.pk])
        if job.status == ExportJob.Status.DONE
        else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
    }
