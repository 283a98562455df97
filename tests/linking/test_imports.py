"""Case imports: mapping, a validation report before anything is stored, progress, idempotent re-import."""

import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.linking import imports
from leads.linking.models import CaseImport, EntityMention, ImportedCase
from leads.linking.services import LinkingError

pytestmark = pytest.mark.django_db

HEADER = ["案号", "类别", "案由", "简要案情", "犯罪嫌疑人", "区县", "领域", "立案时间"]
GOOD = [
    [
        "焦公刑〔2025〕101号",
        "刑事",
        "马某寻衅滋事案",
        "马某纠集多人殴打司机，电话13703911234。",
        "马建国",
        "解放区",
        "工程建设",
        "2025-03-01",
    ],
    [
        "焦公刑〔2025〕102号",
        "刑事案件",
        "强迫交易案",
        "焦作市宏达建筑工程有限公司强迫使用其砂石。",
        "李四",
        "山阳",
        "construction",
        "2025/4/2",
    ],
    ["焦信〔2025〕7号", "信访", "征地补偿款被截留", "村干部截留补偿款。", "", "wuzhi", "", "2025年5月3日"],
]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(users, data: bytes, name="cases.csv", kind="criminal") -> CaseImport:
    """Upload, keep the guessed mapping, validate and (if valid) import, as the pages do for small files."""
    batch = imports.case_import_upload(actor=users["police"], name=name, data=data, default_kind=kind)
    batch = imports.case_import_set_mapping(import_id=batch.pk, actor=users["police"], mapping=batch.mapping)
    batch = imports.case_import_validate(import_id=batch.pk)
    if batch.status == CaseImport.Status.VALID:
        imports.case_import_confirm(import_id=batch.pk, actor=users["police"])
        batch = imports.case_import_run(import_id=batch.pk)
    return batch


def test_headers_are_mapped_by_the_words_other_systems_use():
    mapping = imports.guess_mapping(HEADER)
    assert mapping == {
        "case_number": 0,
        "kind": 1,
        "title": 2,
        "description": 3,
        "accused": 4,
        "region": 5,
        "sector": 6,
        "occurred_at": 7,
    }


def test_a_good_csv_is_imported_and_indexed(users):
    batch = run(users, csv_bytes(GOOD))
    assert batch.status == CaseImport.Status.DONE, batch.problems
    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (3, 0, 0)
    case = ImportedCase.objects.get(case_number="焦公刑〔2025〕102号")
    assert case.kind == "criminal" and case.region.code == "shanyang" and case.sector.code == "construction"
    assert str(case.occurred_at) == "2025-04-02" and case.source_row == 3
    assert ImportedCase.objects.get(case_number="焦信〔2025〕7号").kind == "petition"
    assert EntityMention.objects.filter(
        case__case_number="焦公刑〔2025〕101号", entity__value="13703911234"
    ).exists()


def test_the_same_file_twice_creates_nothing_new(users):
    run(users, csv_bytes(GOOD))
    again = run(users, csv_bytes(GOOD))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert ImportedCase.objects.count() == 3
    changed = [row[:] for row in GOOD]
    changed[0][3] = "案情已补充：马某纠集多人殴打司机。"
    third = run(users, csv_bytes(changed))
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 1, 2)
    assert ImportedCase.objects.count() == 3
    # The phone left the description, and the index followed.
    assert not EntityMention.objects.filter(entity__value="13703911234").exists()


def test_gbk_csv_and_excel_files_are_read(users):
    assert run(users, csv_bytes(GOOD, encoding="gb18030")).created_count == 3
    ImportedCase.objects.all().delete()
    assert run(users, xlsx_bytes(GOOD), name="案件.xlsx").created_count == 3


def test_a_bad_file_gives_a_readable_report_and_stores_nothing(users):
    bad = [
        ["", "刑事", "无编号", "内容", "", "", "", ""],
        ["焦公刑〔2025〕201号", "民事", "类别不对", "内容", "", "", "", ""],
        ["焦公刑〔2025〕202号", "刑事", "", "", "", "火星区", "造船", "去年"],
        ["焦公刑〔2025〕203号", "刑事", "好的一行", "内容", "", "", "", "2025-01-01"],
        ["焦公刑〔2025〕203号", "刑事", "重复的一行", "内容", "", "", "", "2099-01-01"],
    ]
    batch = run(users, csv_bytes(bad))
    assert batch.status == CaseImport.Status.INVALID
    problems = {(row, column) for row, column, _p in batch.problems}
    assert problems == {
        (2, "案号"),
        (3, "类别"),
        (4, "案由"),
        (4, "区县"),
        (4, "领域"),
        (4, "立案时间"),
        (6, "立案时间"),
    }
    texts = " ".join(p for _r, _c, p in batch.problems)
    assert "案件编号为空" in texts and "民事" in texts and "火星区" in texts and "日期在今天之后" in texts
    assert ImportedCase.objects.count() == 0 and EntityMention.objects.count() == 0
    with pytest.raises(LinkingError):
        imports.case_import_confirm(import_id=batch.pk, actor=users["police"])
    assert ImportedCase.objects.count() == 0


def test_duplicate_numbers_in_one_file_are_reported(users):
    rows = [GOOD[0], GOOD[1], GOOD[0]]
    batch = run(users, csv_bytes(rows))
    assert batch.status == CaseImport.Status.INVALID
    assert batch.problems == [[4, "案号", "与第 2 行的案件编号重复"]]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cases.xls", b"\xd0\xcf\x11\xe0old excel", ".xls"),
        ("cases.xlsx", b"this is not a zip", "不是 Excel"),
        ("cases.pdf", b"%PDF-1.4", "CSV 或 Excel"),
        ("cases.csv", b"", "请选择"),
        ("cases.csv", "案号,案由\n".encode(), "没有数据行"),
        ("cases.csv", b"\xff\xfe\x00\x00binary\x00", "不是文本"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(users, name, data, message):
    with pytest.raises(LinkingError) as exc:
        imports.case_import_upload(actor=users["police"], name=name, data=data, default_kind="criminal")
    assert message in " ".join(m for ms in exc.value.errors.values() for m in ms)
    assert not CaseImport.objects.exists()


def test_a_mapping_without_a_case_number_or_with_a_column_twice_is_refused(users):
    batch = imports.case_import_upload(
        actor=users["police"], name="c.csv", data=csv_bytes(GOOD), default_kind="criminal"
    )
    with pytest.raises(LinkingError) as exc:
        imports.case_import_set_mapping(
            import_id=batch.pk,
            actor=users["police"],
            mapping={"case_number": None, "title": 2, "description": 2},
        )
    assert set(exc.value.errors) == {"case_number", "description"}
    batch.refresh_from_db()
    assert batch.status == CaseImport.Status.UPLOADED


def test_a_large_file_runs_on_a_worker_with_progress(
    users, settings, django_capture_on_commit_callbacks, client_as
):
    settings.LINKING = {"IMPORT_SYNC_ROWS": 2}
    rows = [[f"焦公刑〔2025〕{i}号", "刑事", f"案件{i}", f"内容{i}", "", "", "", ""] for i in range(1, 1201)]
    batch = imports.case_import_upload(
        actor=users["police"], name="big.csv", data=csv_bytes(rows), default_kind="criminal"
    )
    assert batch.total_rows == 1200 and not imports.runs_in_request(batch)
    with (
        mock.patch("leads.linking.tasks.case_import_validate.apply_async") as validate,
        django_capture_on_commit_callbacks(execute=True),
    ):
        imports.case_import_set_mapping(import_id=batch.pk, actor=users["police"], mapping=batch.mapping)
    validate.assert_called_once_with(kwargs={"import_id": batch.pk})
    client = client_as("police")
    progress = client.get(f"/linking/imports/{batch.pk}/progress/", HTTP_ACCEPT="application/json").json()
    assert progress == {"status": "validating", "processed": 0, "total": 1200, "percent": 0, "problems": 0}
    imports.case_import_validate(import_id=batch.pk)  # what the worker runs
    with (
        mock.patch("leads.linking.tasks.case_import_run.apply_async") as run_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        imports.case_import_confirm(import_id=batch.pk, actor=users["police"])
    run_task.assert_called_once()
    page = client.get(f"/linking/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in page.content.decode()
    imports.case_import_run(import_id=batch.pk)
    progress = client.get(f"/linking/imports/{batch.pk}/progress/", HTTP_ACCEPT="application/json").json()
    assert progress["status"] == "done" and progress["percent"] == 100
    assert ImportedCase.objects.count() == 1200
    finished = client.get(f"/linking/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"


def test_the_import_pages_walk_upload_mapping_report_and_import(client_as):
    client = client_as("office")
    upload = SimpleUploadedFile("cases.csv", csv_bytes(GOOD), content_type="text/csv")
    r = client.post("/linking/imports/", {"file": upload, "default_kind": "criminal"})
    assert r.status_code == 302
    batch = CaseImport.objects.get()
    page = client.get(r["Location"]).content.decode()
    assert "马某寻衅滋事案" in page  # the preview
    data = {name: ("" if i is None else str(i)) for name, i in batch.mapping.items()}
    r = client.post(f"/linking/imports/{batch.pk}/", {**data, "default_kind": "criminal"})
    assert r.status_code == 302
    batch.refresh_from_db()
    assert batch.status == CaseImport.Status.VALID
    r = client.post(f"/linking/imports/{batch.pk}/confirm/")
    assert r.status_code == 302
    assert "新增 3 件" in client.get(f"/linking/imports/{batch.pk}/").content.decode()


def test_a_bad_upload_shows_the_error_next_to_the_field(client_as):
    client = client_as("office")
    upload = SimpleUploadedFile("cases.xls", b"\xd0\xcf\x11\xe0", content_type="application/vnd.ms-excel")
    r = client.post("/linking/imports/", {"file": upload, "default_kind": "criminal"})
    assert r.status_code == 400
    assert "另存为 .xlsx" in r.content.decode()
    assert not CaseImport.objects.exists()


def test_a_bad_file_report_lists_row_column_problem_on_the_page(client_as):
    client = client_as("office")
    rows = [["", "刑事", "无编号", "内容", "", "", "", ""]]
    upload = SimpleUploadedFile("cases.csv", csv_bytes(rows), content_type="text/csv")
    client.post("/linking/imports/", {"file": upload, "default_kind": "criminal"})
    batch = CaseImport.objects.get()
    data = {name: ("" if i is None else str(i)) for name, i in batch.mapping.items()}
    client.post(f"/linking/imports/{batch.pk}/", {**data, "default_kind": "criminal"})
    page = client.get(f"/linking/imports/{batch.pk}/").content.decode()
    assert "未导入任何数据" in page and "案件编号为空" in page and "<td>2</td>" in page
    assert ImportedCase.objects.count() == 0


@pytest.mark.parametrize("who", ["liaison_housing", "leader", "discipline"])
def test_imports_are_for_office_and_police_only(client_as, who):
    assert client_as(who).get("/linking/imports/").status_code == 403
