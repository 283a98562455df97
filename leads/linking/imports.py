"""Import of existing criminal, public-security and petition case lists (CSV or Excel).

Four steps, each a service: upload (the file is read once to find its header and size), column mapping,
validation (every row checked; a report of row, column and problem; nothing stored), import (upsert on
case kind + number with a row hash, so the same file twice creates nothing new). Small files are validated
and imported in the request; large ones on a worker, with progress written to the batch for the page to poll.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.audit import audit_record
from campaign.models import Region, Sector, User

from . import normalize_text
from .conf import linking_setting
from .indexing import index_items, load_cases, lock_item
from .models import CaseImport, CaseKind, ImportedCase, ItemKind
from .services import LinkingError, watch_check

log = logging.getLogger(__name__)

# Target fields, their labels and the headers other systems use for them (for the first guess).
FIELDS = {
    "case_number": (
        gettext_lazy("案件编号"),
        ["案件编号", "案号", "编号", "案件号", "警情编号", "信访件编号", "件号", "受理编号", "登记编号"],
    ),
    "kind": (gettext_lazy("案件类别"), ["案件类别", "类别", "案件类型", "类型", "案件性质"]),
    "title": (gettext_lazy("案件名称"), ["案件名称", "案由", "名称", "标题", "事项", "信访事项"]),
    "description": (
        gettext_lazy("简要案情"),
        ["简要案情", "案情", "案情摘要", "简要情况", "内容", "反映问题", "诉求内容", "主要内容", "基本案情"],
    ),
    "accused": (
        gettext_lazy("涉案人员/单位"),
        [
            "涉案人员",
            "涉案人员/单位",
            "被举报人",
            "犯罪嫌疑人",
            "嫌疑人",
            "违法行为人",
            "涉案单位",
            "涉及人员",
            "被反映人",
            "当事人",
        ],
    ),
    "region": (
        gettext_lazy("发生地区"),
        ["发生地区", "地区", "区县", "县区", "辖区", "行政区划", "所属区县"],
    ),
    "sector": (gettext_lazy("行业领域"), ["行业领域", "领域", "行业", "所属行业"]),
    "occurred_at": (
        gettext_lazy("发案时间"),
        ["发案时间", "案发时间", "发生时间", "立案时间", "受理时间", "登记日期", "日期", "时间"],
    ),
}
REQUIRED = ("case_number",)
KIND_WORDS = {
    CaseKind.CRIMINAL: ("刑事", "刑事案件", "criminal"),
    CaseKind.SECURITY: ("治安", "治安案件", "行政", "行政案件", "security"),
    CaseKind.PETITION: ("信访", "信访件", "信访事项", "petition"),
}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "xlsm": "xlsx"}
BATCH = 500
PROGRESS_EVERY = 500


def field_choices() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, (label, _w) in FIELDS.items()]


# --- reading files -------------------------------------------------------------------------------
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LinkingError.field("file", _("文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV。"))


def iter_rows(data: bytes, file_format: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) of every non-empty row, the header first."""
    if file_format == "csv":
        reader = csv.reader(io.StringIO(_csv_text(data), newline=""))
        try:
            for number, row in enumerate(reader, start=1):
                cells = [c.strip() for c in row]
                if any(cells):
                    yield number, cells
        except csv.Error as exc:
            raise LinkingError.field("file", _("CSV 文件格式错误：%(error)s") % {"error": exc})
        return
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise LinkingError.field(
            "file", _("Excel 文件无法读取：%(error)s") % {"error": exc.__class__.__name__}
        )
    except Exception as exc:  # zipfile.BadZipFile and friends: a damaged or renamed file
        raise LinkingError.field(
            "file", _("Excel 文件已损坏或不是 .xlsx 文件（%(error)s）。") % {"error": exc.__class__.__name__}
        )
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in row]
            if any(cells):
                yield number, cells
    finally:
        book.close()


def _detect_format(name: str, data: bytes) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext == "xls":
        raise LinkingError.field(
            "file", _("不支持旧版 Excel（.xls），请在 Excel 中另存为 .xlsx 或 CSV 后上传。")
        )
    if ext not in EXTENSIONS:
        raise LinkingError.field("file", _("只能上传 CSV 或 Excel（.xlsx）文件。"))
    fmt = EXTENSIONS[ext]
    if fmt == "xlsx" and not data.startswith(b"PK\x03\x04"):
        raise LinkingError.field("file", _("文件扩展名为 .xlsx，但内容不是 Excel 文件。"))
    if fmt == "csv" and b"\x00" in data[:4096]:
        raise LinkingError.field("file", _("文件扩展名为 .csv，但内容不是文本表格。"))
    return fmt


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    """The first guess of which column holds which field, by header names (exact first, then contained)."""
    clean = [re.sub(r"\s+", "", normalize_text(h or "")) for h in headers]
    mapping: dict[str, int | None] = {}
    used: set[int] = set()
    for exact in (True, False):
        for name, (_label, words) in FIELDS.items():
            if mapping.get(name) is not None:
                continue
            for word in words:
                hit = next(
                    (
                        i
                        for i, h in enumerate(clean)
                        if i not in used and (h == word if exact else (word in h and len(word) >= 2))
                    ),
                    None,
                )
                if hit is not None:
                    mapping[name] = hit
                    used.add(hit)
                    break
    return {name: mapping.get(name) for name in FIELDS}


# --- upload and mapping --------------------------------------------------------------------------
def _stored_name(fmt: str) -> str:
    return f"{secrets.token_hex(16)}.{fmt}"


@transaction.atomic
def case_import_upload(*, actor: User, name: str, data: bytes, default_kind: str) -> CaseImport:
    """Store an uploaded case list after reading its header; a file that cannot be read is refused."""
    errors = {}
    if default_kind not in CaseKind.values:
        errors["default_kind"] = [_("请选择案件类别。")]
    if not data:
        errors["file"] = [_("请选择要导入的文件。")]
    elif len(data) > linking_setting("IMPORT_MAX_BYTES"):
        errors["file"] = [
            _("文件超过 %(mb)s MB，请拆分后分批导入。")
            % {"mb": linking_setting("IMPORT_MAX_BYTES") // (1024 * 1024)}
        ]
    if errors:
        raise LinkingError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    fmt = _detect_format(name or "", data)
    rows = iter_rows(data, fmt)
    first = next(rows, None)
    if first is None:
        raise LinkingError.field("file", _("文件是空的：没有表头，也没有数据。"))
    headers = [h or _("第%(n)s列") % {"n": i + 1} for i, h in enumerate(first[1])]
    total = sum(1 for _row in rows)
    if total == 0:
        raise LinkingError.field("file", _("文件只有表头，没有数据行。"))
    if total > linking_setting("IMPORT_MAX_ROWS"):
        raise LinkingError.field(
            "file",
            _("文件有 %(n)s 行，超过单次导入上限 %(max)s 行，请拆分。")
            % {"n": total, "max": linking_setting("IMPORT_MAX_ROWS")},
        )
    batch = CaseImport(
        original_name=(name or "")[:200],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        file_format=fmt,
        default_kind=default_kind,
        headers=headers,
        mapping=guess_mapping(headers),
        total_rows=total,
        created_by=actor,
    )
    batch.file.save(_stored_name(fmt), ContentFile(data), save=False)
    batch.save()
    audit_record(actor=actor, action="linking.case_import_upload", target=batch, data={"rows": total})
    return batch


def _read(batch: CaseImport) -> bytes:
    with batch.file.open("rb") as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        raise LinkingError(_("导入文件已被改动，请重新上传。"), kind="state")
    return data


@transaction.atomic
def case_import_set_mapping(
    *, import_id: int, actor: User, mapping: dict, default_kind: str | None = None
) -> CaseImport:
    """Save the column mapping and start validation (in the request for small files, else on a worker)."""
    batch = CaseImport.objects.select_for_update().get(pk=import_id)
    if batch.status not in (CaseImport.Status.UPLOADED, CaseImport.Status.INVALID, CaseImport.Status.VALID):
        raise LinkingError(_("该批次正在处理或已导入，不能再修改列对应。"), kind="state")
    clean: dict[str, int | None] = {}
    errors: dict[str, list[str]] = {}
    used: dict[int, str] = {}
    for name in FIELDS:
        raw = mapping.get(name)
        if raw in (None, "", "-1", -1):
            clean[name] = None
            continue
        try:
            index = int(raw)
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < len(batch.headers):
            errors[name] = [_("所选列不存在。")]
            continue
        if index in used:
            errors[name] = [
                _("“%(col)s”列已对应到“%(other)s”。")
                % {"col": batch.headers[index], "other": FIELDS[used[index]][0]}
            ]
            continue
        used[index] = name
        clean[name] = index
    for name in REQUIRED:
        if clean.get(name) is None and name not in errors:
            errors[name] = [_("必须指定哪一列是%(label)s。") % {"label": FIELDS[name][0]}]
    if clean.get("title") is None and clean.get("description") is None and "title" not in errors:
        errors["title"] = [_("案件名称和简要案情至少要对应一列。")]
    if default_kind is not None:
        if default_kind not in CaseKind.values:
            errors["default_kind"] = [_("请选择案件类别。")]
        else:
            batch.default_kind = default_kind
    if errors:
        raise LinkingError(
            _("列对应有误，请检查：%(fields)s。")
            % {"fields": "、".join(str(FIELDS.get(f, (f,))[0]) for f in errors)},
            errors,
        )
    batch.mapping = clean
    batch.status = CaseImport.Status.VALIDATING
    batch.processed_rows = 0
    batch.problems, batch.problem_count = [], 0
    batch.save(
        update_fields=["mapping", "default_kind", "status", "processed_rows", "problems", "problem_count"]
    )
    if batch.total_rows > linking_setting("IMPORT_SYNC_ROWS"):
        from .tasks import case_import_validate as task

        transaction.on_commit(lambda: task.apply_async(kwargs={"import_id": batch.pk}))
    return batch


# --- validation ----------------------------------------------------------------------------------
@dataclass
class CaseRow:
    row: int
    kind: str
    case_number: str
    title: str
    description: str
    accused: str
    region_id: int | None
    sector_id: int | None
    occurred_at: dt.date | None

    def digest(self) -> str:
        payload = [
            self.kind,
            self.case_number,
            self.title,
            self.description,
            self.accused,
            self.region_id,
            self.sector_id,
            self.occurred_at.isoformat() if self.occurred_at else None,
        ]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")


def parse_date(text: str) -> dt.date | None:
    text = normalize_text(text or "").strip()
    m = _DATE_RE.match(text)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if re.fullmatch(r"\d{8}", text):
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    raise ValueError(text)


class _Lookups:
    """Regions and sectors by name, short name (解放 → 解放区) and code."""

    def __init__(self) -> None:
        self.regions: dict[str, int] = {}
        for pk, code, name in Region.objects.values_list("pk", "code", "name"):
            self.regions[code.lower()] = pk
            self.regions[name] = pk
            for tail in ("区", "县", "市"):
                if name.endswith(tail) and len(name) > 2:
                    self.regions.setdefault(name[: -len(tail)], pk)
            self.regions.setdefault("焦作市" + name, pk)
        self.sectors: dict[str, int] = {}
        for pk, code, name in Sector.objects.values_list("pk", "code", "name"):
            self.sectors[code.lower()] = pk
            self.sectors[name] = pk
        self.kinds: dict[str, str] = {}
        for kind, words in KIND_WORDS.items():
            for w in words:
                self.kinds[w] = kind
        for kind in CaseKind:
            self.kinds[str(kind.label)] = kind.value


def _check_row(
    number: int, cells: list[str], batch: CaseImport, look: _Lookups, problems: list
) -> CaseRow | None:
    mapping = batch.mapping
    headers = batch.headers

    def get(name: str) -> str:
        index = mapping.get(name)
        if index is None or index >= len(cells):
            return ""
        return (
            " ".join((cells[index] or "").split()) if name != "description" else (cells[index] or "").strip()
        )

    def problem(name: str, text: str) -> None:
        index = mapping.get(name)
        column = headers[index] if index is not None else str(FIELDS[name][0])
        problems.append([number, column, text])

    before = len(problems)
    case_number = normalize_text(get("case_number")).strip()
    if not case_number:
        problem("case_number", _("案件编号为空"))
    elif len(case_number) > 60:
        problem("case_number", _("案件编号超过60个字符"))
    kind = batch.default_kind
    kind_text = get("kind")
    if kind_text:
        kind = look.kinds.get(kind_text) or look.kinds.get(kind_text.lower())
        if not kind:
            problem(
                "kind",
                _("无法识别的案件类别“%(v)s”（可填：刑事案件、治安案件、信访件）") % {"v": kind_text[:30]},
            )
    title = get("title")
    description = get("description")
    if not title and not description:
        problem("title" if mapping.get("title") is not None else "description", _("案件名称和简要案情都为空"))
    if len(title) > 200:
        problem("title", _("案件名称超过200个字符"))
    if len(description) > 10000:
        problem("description", _("简要案情超过10000个字符"))
    accused = get("accused")
    if len(accused) > 2000:
        problem("accused", _("涉案人员/单位超过2000个字符"))
    region_id = sector_id = None
    region_text = get("region")
    if region_text:
        region_id = look.regions.get(region_text) or look.regions.get(region_text.lower())
        if region_id is None:
            problem("region", _("未知的地区“%(v)s”") % {"v": region_text[:30]})
    sector_text = get("sector")
    if sector_text:
        sector_id = look.sectors.get(sector_text) or look.sectors.get(sector_text.lower())
        if sector_id is None:
            problem("sector", _("未知的行业领域“%(v)s”") % {"v": sector_text[:30]})
    occurred_at = None
    date_text = get("occurred_at")
    if date_text:
        try:
            occurred_at = parse_date(date_text)
        except ValueError:
            problem(
                "occurred_at",
                _("无法识别的日期“%(v)s”（应为 2024-05-01 这样的格式）") % {"v": date_text[:30]},
            )
        if occurred_at and occurred_at > timezone.localdate():
            problem("occurred_at", _("日期在今天之后"))
    if len(problems) > before:
        return None
    return CaseRow(
        row=number,
        kind=kind,
        case_number=case_number,
        title=title or description[:60],
        description=description,
        accused=accused,
        region_id=region_id,
        sector_id=sector_id,
        occurred_at=occurred_at,
    )


def _progress(batch_id: int, processed: int) -> None:
    CaseImport.objects.filter(pk=batch_id).update(processed_rows=processed)


def _rows(batch: CaseImport, problems: list, *, progress: bool) -> Iterator[CaseRow]:
    """Checked rows of the batch's file; problems (row, column, problem) are appended to `problems`."""
    look = _Lookups()
    seen: dict[tuple[str, str], int] = {}
    rows = iter_rows(_read(batch), batch.file_format)
    next(rows, None)  # the header
    done = 0
    for number, cells in rows:
        checked = _check_row(number, cells, batch, look, problems)
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            _progress(batch.pk, done)
        if checked is None:
            continue
        key = (checked.kind, checked.case_number)
        if key in seen:
            index = batch.mapping.get("case_number")
            problems.append(
                [number, batch.headers[index], _("与第 %(row)s 行的案件编号重复") % {"row": seen[key]}]
            )
            continue
        seen[key] = number
        yield checked


def case_import_validate(*, import_id: int) -> CaseImport:
    """Check every row; the batch ends VALID or INVALID with its report. Stores no case."""
    batch = CaseImport.objects.get(pk=import_id)
    if batch.status != CaseImport.Status.VALIDATING:
        return batch
    problems: list = []
    try:
        for _row in _rows(batch, problems, progress=True):
            pass
    except LinkingError as exc:
        problems.append([0, "", exc.message])
    limit = linking_setting("IMPORT_MAX_PROBLEMS")
    with transaction.atomic():
        batch = CaseImport.objects.select_for_update().get(pk=import_id)
        if batch.status != CaseImport.Status.VALIDATING:
            return batch
        batch.problems = problems[:limit]
        batch.problem_count = len(problems)
        batch.processed_rows = batch.total_rows
        batch.status = CaseImport.Status.INVALID if problems else CaseImport.Status.VALID
        batch.save(update_fields=["problems", "problem_count", "processed_rows", "status"])
    return batch


# --- import --------------------------------------------------------------------------------------
@transaction.atomic
def case_import_confirm(*, import_id: int, actor: User) -> CaseImport:
    """Start the import of a validated batch (in the request for small files, else on a worker)."""
    batch = CaseImport.objects.select_for_update().get(pk=import_id)
    if batch.status != CaseImport.Status.VALID:
        raise LinkingError(_("只有校验通过的文件才能导入。"), kind="state")
    batch.status = CaseImport.Status.IMPORTING
    batch.processed_rows = 0
    batch.save(update_fields=["status", "processed_rows"])
    audit_record(actor=actor, action="linking.case_import", target=batch, data={"rows": batch.total_rows})
    if batch.total_rows > linking_setting("IMPORT_SYNC_ROWS"):
        from .tasks import case_import_run as task

        transaction.on_commit(lambda: task.apply_async(kwargs={"import_id": batch.pk}))
    return batch


def _store(batch: CaseImport, rows: list[CaseRow], counts: dict) -> None:
    """Upsert one batch of rows and index the new and changed cases, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (c.kind, c.case_number): c
            for c in ImportedCase.objects.select_for_update().filter(
                case_number__in=[r.case_number for r in rows]
            )
        }
        created: list[ImportedCase] = []
        changed: list[ImportedCase] = []
        for r in rows:
            digest = r.digest()
            case = existing.get((r.kind, r.case_number))
            values = {
                "title": r.title[:200],
                "description": r.description,
                "accused": r.accused,
                "region_id": r.region_id,
                "sector_id": r.sector_id,
                "occurred_at": r.occurred_at,
            }
            if case is None:
                created.append(
                    ImportedCase(
                        kind=r.kind,
                        case_number=r.case_number,
                        source_file=batch.original_name,
                        source_row=r.row,
                        row_hash=digest,
                        batch=batch,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
            elif case.row_hash != digest:
                for k, v in values.items():
                    setattr(case, k, v)
                case.row_hash, case.updated_at = digest, now
                case.source_file, case.source_row, case.batch = batch.original_name, r.row, batch
                changed.append(case)
            else:
                counts["unchanged"] += 1
        if created:
            ImportedCase.objects.bulk_create(created)
        if changed:
            ImportedCase.objects.bulk_update(
                changed,
                [
                    "title",
                    "description",
                    "accused",
                    "region",
                    "sector",
                    "occurred_at",
                    "row_hash",
                    "updated_at",
                    "source_file",
                    "source_row",
                    "batch",
                ],
            )
        ids = [c.pk for c in created + changed]
        if ids:
            for pk in sorted(ids):
                lock_item(ItemKind.CASE, pk)
            items = load_cases(ids)
            index_items(items)
            new_ids = {c.pk for c in created}
            for item in items:
                if item.id in new_ids:
                    watch_check(item=item)
        counts["created"] += len(created)
        counts["updated"] += len(changed)


def case_import_run(*, import_id: int) -> CaseImport:
    """Import a validated batch: batches of rows upserted on (kind, case number); safe to run again."""
    batch = CaseImport.objects.get(pk=import_id)
    if batch.status != CaseImport.Status.IMPORTING:
        return batch
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    problems: list = []
    try:
        pending: list[CaseRow] = []
        done = 0
        for row in _rows(batch, problems, progress=False):
            pending.append(row)
            if len(pending) >= BATCH:
                _store(batch, pending, counts)
                done += len(pending)
                _progress(batch.pk, done)
                pending = []
        if pending:
            _store(batch, pending, counts)
        if problems:
            raise LinkingError(
                _("文件内容与校验时不一致（%(n)s 处问题），请重新上传。") % {"n": len(problems)}
            )
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, LinkingError)
            else _("导入中断：%(error)s") % {"error": exc.__class__.__name__}
        )
        log.exception("linking: case import %s failed", import_id)
        CaseImport.objects.filter(pk=import_id).update(
            status=CaseImport.Status.FAILED,
            error=message,
            created_count=counts["created"],
            updated_count=counts["updated"],
            unchanged_count=counts["unchanged"],
            finished_at=timezone.now(),
        )
        return CaseImport.objects.get(pk=import_id)
    CaseImport.objects.filter(pk=import_id).update(
        status=CaseImport.Status.DONE,
        processed_rows=batch.total_rows,
        created_count=counts["created"],
        updated_count=counts["updated"],
        unchanged_count=counts["unchanged"],
        finished_at=timezone.now(),
    )
    return CaseImport.objects.get(pk=import_id)


def case_import_retry(*, import_id: int, actor: User) -> CaseImport:
    """Run a failed import again (already stored rows are unchanged the second time)."""
    with transaction.atomic():
        batch = CaseImport.objects.select_for_update().get(pk=import_id)
        if batch.status != CaseImport.Status.FAILED:
            raise LinkingError(_("只有导入失败的批次可以重试。"), kind="state")
        batch.status = CaseImport.Status.VALID
        batch.error = ""
        batch.save(update_fields=["status", "error"])
    return case_import_confirm(import_id=import_id, actor=actor)


def runs_in_request(batch: CaseImport) -> bool:
    """Small files are validated and imported in the request; larger ones on a worker."""
    return batch.total_rows <= linking_setting("IMPORT_SYNC_ROWS")


def preview_rows(batch: CaseImport, n: int = 5) -> list[list[str]]:
    """The first data rows, shown next to the mapping so the user sees what each column holds."""
    if batch.status not in (CaseImport.Status.UPLOADED, CaseImport.Status.INVALID, CaseImport.Status.VALID):
        return []
    try:
        rows = iter_rows(_read(batch), batch.file_format)
        next(rows, None)
        out = []
        for _number, cells in rows:
            out.append([(c or "")[:40] for c in cells[: len(batch.headers)]])
            if len(out) >= n:
                break
        return out
    except LinkingError:
        return []
