"""The weekly bulletin (周通报): generated every Monday from the lead figures of the past week — per member
unit and per district: received, closed, closure / substantiation / on-time rates, red lights, overdue,
ranking — as an Excel workbook and a document in the official layout (GB/T 9704, accountability.documents),
for the office to review, word its remarks, and issue with a document number.

The figures come from leads.stats (a lower app: this module reads it, never the other way round). The
bulletin row is leads.models.Bulletin, which freezes the figures as generated; this module writes it
through the services below, renders it, and serves its pages (config/urls.py includes `urlpatterns`).
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from celery import shared_task
from django.contrib import messages
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from campaign import demo, navigation, ops
from campaign.access import role_required
from campaign.audit import audit_record, client_ip
from campaign.models import User
from campaign.roles import Role
from leads.models import Bulletin
from leads.stats import region_period_stats, totals, unit_period_stats

from .conf import acc_setting
from .documents import (
    Block,
    OfficialDocument,
    PdfUnavailable,
    blocks_from_text,
    format_doc_date,
    render_html,
    render_pdf,
)
from .services import allocate_doc_number
from .workflow import WorkflowError

log = logging.getLogger(__name__)

EDIT_ROLES = (Role.OFFICE,)
# Drafts are for the office and leaders; an issued bulletin goes to every member unit.
READ_ROLES = (Role.OFFICE, Role.LEADER, Role.ADMIN, Role.LIAISON, Role.UNIT_HEAD, Role.DISCIPLINE)
DRAFT_ROLES = (Role.OFFICE, Role.LEADER, Role.ADMIN)

UNIT_HEADER = [
    "排名",
    "成员单位",
    "本周交办",
    "累计交办",
    "累计办结",
    "办结率",
    "查实率",
    "按期办结率",
    "红灯",
    "超期",
]
REGION_HEADER = [
    "排名",
    "县（市、区）",
    "本周受理",
    "累计受理",
    "累计办结",
    "办结率",
    "查实率",
    "按期办结率",
    "红灯",
    "超期",
]


# --- periods -------------------------------------------------------------------------------------
def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def previous_week(today: dt.date) -> dt.date:
    return week_start(today) - dt.timedelta(days=7)


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def bulletin_title(start: dt.date) -> str:
    end = start + dt.timedelta(days=6)
    year, week, _weekday = start.isocalendar()
    return _("%(year)s年第%(week)s周（%(m1)s月%(d1)s日—%(m2)s月%(d2)s日）扫黑除恶线索办理情况通报") % {
        "year": year,
        "week": week,
        "m1": start.month,
        "d1": start.day,
        "m2": end.month,
        "d2": end.day,
    }


# --- text ----------------------------------------------------------------------------------------
def _pct(value) -> str:
    return "—" if value in (None, "") else f"{value}%"


def default_remarks(data: dict) -> str:
    """A first wording of 问题和要求 from the figures; the office edits it before issuing."""
    units = [u for u in data["units"] if u["total"]]
    overdue = sorted((u for u in units if u["overdue"]), key=lambda u: -u["overdue"])
    ranked = sorted((u for u in units if u["rank"]), key=lambda u: u["rank"])
    parts = [_("（一）存在的问题。")]
    if overdue:
        names = "、".join(f"{u['name']}（{u['overdue']}件）" for u in overdue[:5])
        parts[0] += _("%(names)s有超期未办结线索。") % {"names": names}
    else:
        parts[0] += _("本周各成员单位无超期未办结线索。")
    if len(ranked) > 1:
        last = ranked[-1]
        parts[0] += _("%(name)s办结率%(rate)s，排名靠后。") % {
            "name": last["name"],
            "rate": _pct(last["closure_rate"]),
        }
    parts.append(
        _(
            "（二）工作要求。各成员单位要严格落实线索签收、回告和核查时限要求，对红灯线索逐条明确责任人、倒排工期；"
            "对超期线索要说明原因、限期办结。市扫黑办将对连续两周超期的单位予以督办，情节严重的按规定约谈。"
        )
    )
    return "\n\n".join(parts)


def _unit_rows(data: dict) -> list[list[str]]:
    return [
        [
            str(u["rank"]) if u["rank"] else "—",
            u["name"],
            str(u["week"]),
            str(u["total"]),
            str(u["closed"]),
            _pct(u["closure_rate"]),
            _pct(u["substantiation_rate"]),
            _pct(u["on_time_rate"]),
            str(u["red"]),
            str(u["overdue"]),
        ]
        for u in sorted(data["units"], key=lambda u: (u["rank"] is None, u["rank"] or 0))
    ]


def _region_rows(data: dict) -> list[list[str]]:
    return [
        [
            str(r["rank"]) if r["rank"] else "—",
            r["name"],
            str(r["week"]),
            str(r["total"]),
            str(r["closed"]),
            _pct(r["closure_rate"]),
            _pct(r["substantiation_rate"]),
            _pct(r["on_time_rate"]),
            str(r["red"]),
            str(r["overdue"]),
        ]
        for r in sorted(data["regions"], key=lambda r: (r["rank"] is None, r["rank"] or 0))
    ]


def summary_paragraph(bulletin: Bulletin) -> str:
    t = bulletin.data["totals"]
    start, end = bulletin.period_start, bulletin.period_end
    return _(
        "%(m1)s月%(d1)s日至%(m2)s月%(d2)s日，全市新受理扫黑除恶线索%(week)s件。截至%(m2)s月%(d2)s日，累计受理%(total)s件，"
        "办结%(closed)s件，办结率%(closure)s；查实%(found)s件，查实率%(found_rate)s；按期办结率%(on_time)s。"
        "目前红灯线索%(red)s件，超期未办结线索%(overdue)s件。"
    ) % {
        "m1": start.month,
        "d1": start.day,
        "m2": end.month,
        "d2": end.day,
        "week": t["week"],
        "total": t["total"],
        "closed": t["closed"],
        "closure": _pct(t["closure_rate"]),
        "found": t["found"],
        "found_rate": _pct(t["substantiation_rate"]),
        "on_time": _pct(t["on_time_rate"]),
        "red": t["red"],
        "overdue": t["overdue"],
    }


# --- the document and the workbook ----------------------------------------------------------------
def bulletin_document(bulletin: Bulletin) -> OfficialDocument:
    """The bulletin in the official layout: summary, the unit and district tables, the office's remarks."""
    body = [
        Block("p", _("现将%(title)s如下：") % {"title": bulletin.title}),
        Block("h1", _("一、总体情况")),
        Block("p", summary_paragraph(bulletin)),
        Block("h1", _("二、成员单位办理情况")),
        Block(
            "table", rows=_unit_rows(bulletin.data), header=UNIT_HEADER, caption=_("成员单位线索办理情况排名")
        ),
        Block("h1", _("三、县（市、区）办理情况")),
        Block(
            "table",
            rows=_region_rows(bulletin.data),
            header=REGION_HEADER,
            caption=_("县（市、区）线索办理情况排名"),
        ),
        Block("h1", _("四、存在问题和工作要求")),
        *blocks_from_text(bulletin.remarks or default_remarks(bulletin.data)),
        Block(
            "p",
            _(
                "说明：办结率=累计办结/累计交办；查实率=查实（含部分属实）/累计办结；按期办结率=按期办结/累计办结；"
                "红灯、超期为截至%(as_of)s的在办线索；限制知悉范围的线索不计入。"
            )
            % {
                "as_of": format_doc_date(
                    timezone.localdate(dt.datetime.fromisoformat(bulletin.data["as_of"]))
                )
            },
        ),
    ]
    issued = bulletin.status == Bulletin.Status.ISSUED
    day = bulletin.doc_date if issued else timezone.localdate()
    cc = [c for c in acc_setting("DEFAULT_CC").replace("、", "，").split("，") if c.strip()]
    year, week, _weekday = bulletin.period_start.isocalendar()
    return OfficialDocument(
        # The document title leaves the dates to the first paragraph: a short title wraps cleanly (7.3.1).
        title=_("关于%(year)s年第%(week)s周扫黑除恶线索办理情况的通报") % {"year": year, "week": week},
        body=body,
        issuer=acc_setting("ISSUER_FULL_NAME"),
        header_suffix=acc_setting("HEADER_SUFFIX"),
        signature=acc_setting("ISSUER_FULL_NAME"),
        date=day,
        number=bulletin.doc_number,
        addressees=_("各成员单位，各县（市、区）扫黑办"),
        sealed=True,
        cc=cc,
        printer=acc_setting("ISSUER_SHORT_NAME"),
        printed_on=day,
        draft=not issued,
    )


def bulletin_workbook(bulletin: Bulletin) -> bytes:
    """The figures as an Excel workbook: units, districts, and a sheet that says how they were counted."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EE")

    def sheet(ws, title: str, header: list[str], rows: list[list]):
        ws.title = title
        ws.append([bulletin.title])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([_("统计截至 %(as_of)s") % {"as_of": bulletin.data["as_of"][:16].replace("T", " ")}])
        ws.append(header)
        for cell in ws[3]:
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "C4"
        for i, _h in enumerate(header, start=1):
            ws.column_dimensions[get_column_letter(i)].width = 22 if i == 2 else 11

    def numbers(r: dict, key: str) -> list:
        def pct(v):
            return float(v) / 100 if v is not None else None

        return [
            r["rank"],
            r["name"],
            r["week"],
            r["total"],
            r["closed"],
            pct(r["closure_rate"]),
            pct(r["substantiation_rate"]),
            pct(r["on_time_rate"]),
            r["red"],
            r["overdue"],
        ]

    units = sorted(bulletin.data["units"], key=lambda u: (u["rank"] is None, u["rank"] or 0))
    regions = sorted(bulletin.data["regions"], key=lambda r: (r["rank"] is None, r["rank"] or 0))
    sheet(wb.active, _("成员单位"), UNIT_HEADER, [numbers(u, "unit") for u in units])
    sheet(wb.create_sheet(), _("县（市、区）"), REGION_HEADER, [numbers(r, "region") for r in regions])
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=4, min_col=6, max_col=8):
            for cell in row:
                cell.number_format = "0.0%"
    notes = wb.create_sheet(_("说明"))
    for line in [
        _("办结率 = 累计办结 / 累计交办（受理）"),
        _("查实率 = 查实（含部分属实）/ 累计办结；查否不计为查实"),
        _("按期办结率 = 在办理期限（含批准延期）内反馈的 / 累计办结"),
        _("红灯：剩余工作日不多于设定值的在办线索；超期：已过办理期限仍未办结"),
        _("排名：办结率高者在前，相同时按期办结率高者在前，再相同时超期少者在前"),
        _("限制知悉范围的线索不计入本表"),
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 80
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- services ------------------------------------------------------------------------------------
def _figures(start: dt.date, now: dt.datetime) -> dict:
    begin, end = _aware(start), _aware(start + dt.timedelta(days=7))
    regions = region_period_stats(start=begin, end=end, now=now)

    def plain(rows):
        return [{k: (str(v) if hasattr(v, "quantize") else v) for k, v in r.items()} for r in rows]

    return {
        "units": plain(unit_period_stats(start=begin, end=end, now=now)),
        "regions": plain(regions),
        "totals": {k: (str(v) if hasattr(v, "quantize") else v) for k, v in totals(regions).items()},
        "as_of": now.isoformat(),
    }


@transaction.atomic
def bulletin_generate(*, start: dt.date, now: dt.datetime | None = None) -> Bulletin:
    """Draw up (or redraw, while still a draft) the bulletin of the week starting on `start` (a Monday).

    Safe to run twice: one bulletin per week (a unique row, locked while redrawn); an issued one is
    never redrawn. The office's remarks survive a redraw."""
    now = now or timezone.now()
    start = week_start(start)
    bulletin = Bulletin.objects.select_for_update().filter(period_start=start).first()
    if bulletin is not None and bulletin.status == Bulletin.Status.ISSUED:
        raise WorkflowError(_("该周通报已印发，不能重新生成。"), kind="state")
    data = _figures(start, now)
    if bulletin is None:
        bulletin = Bulletin(
            period_start=start, period_end=start + dt.timedelta(days=6), title=bulletin_title(start)
        )
    else:
        bulletin.version += 1
    bulletin.data = data
    bulletin.generated_at = now
    bulletin.save()
    # Decimals became strings above; the workbook and document read them back as numbers.
    _revive(bulletin)
    if bulletin.workbook:
        bulletin.workbook.delete(save=False)
    bulletin.workbook.save(f"{start:%Y%m%d}.xlsx", ContentFile(bulletin_workbook(bulletin)), save=False)
    bulletin.save(update_fields=["workbook"])
    return bulletin


def _revive(bulletin: Bulletin) -> Bulletin:
    from decimal import Decimal

    keys = ("closure_rate", "substantiation_rate", "on_time_rate")
    for row in [
        *bulletin.data.get("units", []),
        *bulletin.data.get("regions", []),
        bulletin.data.get("totals", {}),
    ]:
        for key in keys:
            if isinstance(row.get(key), str):
                row[key] = Decimal(row[key])
    return bulletin


def _locked(bulletin_id: int, expected_version) -> Bulletin:
    bulletin = Bulletin.objects.select_for_update().filter(pk=bulletin_id).first()
    if bulletin is None:
        raise Http404
    if expected_version not in (None, "") and str(expected_version) != str(bulletin.version):
        raise WorkflowError(_("该通报已被他人更新，请刷新页面后重新操作。"), kind="state")
    if bulletin.status == Bulletin.Status.ISSUED:
        raise WorkflowError(_("该通报已印发，不能修改。"), kind="state")
    return bulletin


def _check_office(actor: User) -> None:
    if getattr(actor, "role", None) != Role.OFFICE:
        raise WorkflowError(_("只有市扫黑办工作人员可以审核、印发周通报。"), kind="forbidden")


@transaction.atomic
def bulletin_update_remarks(
    *, bulletin_id: int, actor: User, remarks: str, expected_version=None
) -> Bulletin:
    _check_office(actor)
    bulletin = _locked(bulletin_id, expected_version)
    remarks = (remarks or "").strip()
    if not remarks:
        raise WorkflowError.field("remarks", _("请填写通报意见（存在问题和工作要求）。"))
    bulletin.remarks = remarks
    bulletin.version += 1
    bulletin.save(update_fields=["remarks", "version"])
    return bulletin


@transaction.atomic
def bulletin_issue(
    *, bulletin_id: int, actor: User, expected_version=None, ip: str | None = None
) -> Bulletin:
    """Issue the reviewed bulletin: a number of the 通报 series, today's date, and every member unit told."""
    _check_office(actor)
    bulletin = _locked(bulletin_id, expected_version)
    if not bulletin.remarks:
        bulletin.remarks = default_remarks(_revive(bulletin).data)
    now = timezone.now()
    day = timezone.localdate(now)
    _series, _seq, number = allocate_doc_number(kind="notice", year=day.year)
    bulletin.doc_number = number
    bulletin.doc_date = day
    bulletin.status = Bulletin.Status.ISSUED
    bulletin.issued_at = now
    bulletin.issued_by = actor
    bulletin.version += 1
    bulletin.save(
        update_fields=["remarks", "doc_number", "doc_date", "status", "issued_at", "issued_by", "version"]
    )
    audit_record(actor=actor, action="bulletin_issue", target=bulletin, data={"number": number}, ip=ip)
    from campaign.notifications import notify

    notify(
        users=User.objects.filter(role__in=[Role.LIAISON, Role.UNIT_HEAD, Role.LEADER], is_active=True),
        kind="bulletin_issued",
        title=_("市扫黑办印发%(number)s：%(title)s") % {"number": number, "title": bulletin.title},
        url=reverse("bulletin:document", args=[bulletin.pk]),
        dedupe_key=f"bulletin:{bulletin.pk}",
        email=False,
    )
    return bulletin


# --- the weekly beat -----------------------------------------------------------------------------
@shared_task(
    name="accountability.bulletin.generate_weekly", ignore_result=True, soft_time_limit=240, time_limit=300
)
def generate_weekly() -> int | None:
    """Beat, Monday morning: draw up last week's bulletin (left alone if already issued)."""
    start = previous_week(timezone.localdate())
    try:
        bulletin = bulletin_generate(start=start)
    except WorkflowError:
        return None
    ops.periodic_record("bulletin_weekly", week=start.isoformat(), id=bulletin.pk)
    return bulletin.pk


# --- pages ---------------------------------------------------------------------------------------
def _visible(user):
    qs = Bulletin.objects.all()
    if user.role not in DRAFT_ROLES:
        qs = qs.filter(status=Bulletin.Status.ISSUED)
    return qs


def _get(request, pk: int) -> Bulletin:
    return _revive(get_object_or_404(_visible(request.user), pk=pk))


@never_cache
@role_required(*READ_ROLES)
def bulletin_list(request):
    if request.method == "POST":
        return _generate_from_page(request)
    bulletins = list(_visible(request.user).select_related("issued_by")[:60])
    return render(
        request,
        "bulletin/list.html",
        {
            "bulletins": bulletins,
            "can_edit": request.user.role in EDIT_ROLES,
            "last_week": previous_week(timezone.localdate()),
        },
    )


def _generate_from_page(request):
    if request.user.role not in EDIT_ROLES:
        raise Http404
    try:
        start = dt.date.fromisoformat(request.POST.get("week", ""))
    except ValueError:
        messages.error(request, _("请选择要生成的周。"))
        return redirect("bulletin:list")
    if start > timezone.localdate():
        messages.error(request, _("不能生成尚未开始的周的通报。"))
        return redirect("bulletin:list")
    try:
        bulletin = bulletin_generate(start=start)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("bulletin:list")
    messages.success(request, _("周通报已生成，请审核。"))
    return redirect("bulletin:detail", pk=bulletin.pk)


@never_cache
@role_required(*READ_ROLES)
def bulletin_detail(request, pk: int):
    bulletin = _get(request, pk)
    errors = {}
    if request.method == "POST":
        if request.user.role not in EDIT_ROLES:
            raise Http404
        op = request.POST.get("op", "")
        try:
            if op == "remarks":
                bulletin_update_remarks(
                    bulletin_id=bulletin.pk,
                    actor=request.user,
                    remarks=request.POST.get("remarks", ""),
                    expected_version=request.POST.get("version"),
                )
                messages.success(request, _("通报意见已保存。"))
            elif op == "issue":
                bulletin = bulletin_issue(
                    bulletin_id=bulletin.pk,
                    actor=request.user,
                    expected_version=request.POST.get("version"),
                    ip=client_ip(request),
                )
                messages.success(request, _("周通报已印发：%(number)s。") % {"number": bulletin.doc_number})
            elif op == "regenerate":
                bulletin_generate(start=bulletin.period_start)
                messages.success(request, _("已按最新数据重新生成。"))
            else:
                raise WorkflowError(_("未知操作。"))
        except WorkflowError as exc:
            errors = exc.errors or {"general": [exc.message]}
            bulletin = _get(request, pk)
            bulletin.remarks = request.POST.get("remarks", bulletin.remarks)
        else:
            return redirect("bulletin:detail", pk=pk)
    return render(
        request,
        "bulletin/detail.html",
        {
            "bulletin": bulletin,
            "summary": summary_paragraph(bulletin),
            "units": sorted(bulletin.data["units"], key=lambda u: (u["rank"] is None, u["rank"] or 0)),
            "regions": sorted(bulletin.data["regions"], key=lambda r: (r["rank"] is None, r["rank"] or 0)),
            "remarks": bulletin.remarks or default_remarks(bulletin.data),
            "as_of": timezone.localtime(dt.datetime.fromisoformat(bulletin.data["as_of"])),
            "can_edit": request.user.role in EDIT_ROLES and bulletin.status == Bulletin.Status.DRAFT,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@never_cache
@role_required(*READ_ROLES)
def bulletin_workbook_download(request, pk: int):
    bulletin = _get(request, pk)
    content = bulletin.workbook.read() if bulletin.workbook else bulletin_workbook(bulletin)
    audit_record(actor=request.user, action="bulletin_download", target=bulletin, ip=client_ip(request))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.period_start:%Y%m%d}.xlsx"'
    return response


@never_cache
@role_required(*READ_ROLES)
def bulletin_document_page(request, pk: int):
    bulletin = _get(request, pk)
    toolbar = {"back": reverse("bulletin:detail", args=[pk]), "pdf": reverse("bulletin:pdf", args=[pk])}
    return HttpResponse(render_html(bulletin_document(bulletin), request=request, toolbar=toolbar))


@never_cache
@role_required(*READ_ROLES)
def bulletin_pdf(request, pk: int):
    bulletin = _get(request, pk)
    try:
        pdf = render_pdf(bulletin_document(bulletin))
    except PdfUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("bulletin:document", pk=pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.period_start:%Y%m%d}.pdf"'
    return response


app_name = "bulletin"
urlpatterns = [
    path("bulletins/", bulletin_list, name="list"),
    path("bulletins/<int:pk>/", bulletin_detail, name="detail"),
    path("bulletins/<int:pk>/workbook.xlsx", bulletin_workbook_download, name="workbook"),
    path("bulletins/<int:pk>/document/", bulletin_document_page, name="document"),
    path("bulletins/<int:pk>/document.pdf", bulletin_pdf, name="pdf"),
]


# --- demo ----------------------------------------------------------------------------------------
def seed_bulletins(stdout=None) -> dict:
    """The bulletins of the last two weeks: the earlier one issued, last week's waiting for review."""
    office = User.objects.filter(username="office", role=Role.OFFICE).first()
    if office is None:
        return {}
    last = previous_week(timezone.localdate())
    made = 0
    for start in (last - dt.timedelta(days=7), last):
        if Bulletin.objects.filter(period_start=start).exists():
            continue
        bulletin = bulletin_generate(start=start)
        made += 1
        if start < last:
            bulletin_issue(bulletin_id=bulletin.pk, actor=office)
    return {"bulletins_created": made}


# The menu entry and the demo seeder. This module is loaded with the URL map (config/urls.py), by the
# worker (CELERY_IMPORTS) and, once AccountabilityConfig.ready() imports it, by every process.
navigation.register(
    navigation.NavItem(
        gettext_lazy("周通报"), "bulletin:list", frozenset(READ_ROLES), icon="megaphone", order=62
    )
)
demo.register(45, "bulletin", seed_bulletins)
