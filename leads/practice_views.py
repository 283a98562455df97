"""Pages of the case-handling practice (issue 11): the unit head's sign-off queue, the review list (评查),
call-backs (回访), the printable lead sheet with its sign-offs, and the register export. Thin: every list
starts from `lead_list_visible_to`, every change goes through a service."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from campaign.access import role_required
from campaign.audit import audit_record, client_ip
from campaign.roles import Role

from . import selectors
from .filters import LeadFilter
from .models import CallBack
from .practice import callback_draw, callback_record, month_start
from .views import ALL_ROLES, PAGE_SIZE, _page, _querystring
from .workflow import TransitionError

READERS = (Role.OFFICE, Role.LEADER, Role.ADMIN)
EXPORT_MAX_ROWS = 20000


@never_cache
@role_required(Role.UNIT_HEAD)
def signoff_queue(request):
    """第一责任人: the unit's results waiting for sign-off (签字背书)."""
    page = _page(request, selectors.assignment_list_signoff(user=request.user))
    return render(request, "leads/signoffs.html", {"page": page, "now": timezone.now()})


@never_cache
@role_required(*READERS)
def review_list(request):
    """评查: leads closed as 查否 and reported again N times, and leads with a review pending."""
    pending_only = request.GET.get("pending") == "1"
    page = _page(request, selectors.lead_list_for_review(request.user, pending_only=pending_only))
    return render(
        request,
        "leads/reviews.html",
        {
            "page": page,
            "pending_only": pending_only,
            "querystring": _querystring(request),
            "now": timezone.now(),
        },
    )


def _month_param(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return None


def _previous_month(today: dt.date) -> dt.date:
    return month_start(month_start(today) - dt.timedelta(days=1))


@never_cache
@role_required(Role.OFFICE)
@require_http_methods(["GET", "POST"])
def callbacks(request):
    """回访: the month's sample of closed leads from named informants, and the outcome of each call."""
    today = timezone.localdate()
    month = _month_param(request.GET.get("month", "")) or _previous_month(today)
    if request.method == "POST" and request.POST.get("op") == "draw":
        drawn = callback_draw(month=month)
        if drawn:
            messages.success(request, _("已抽取 %(n)s 条线索回访。") % {"n": drawn})
        else:
            messages.info(request, _("本月样本已抽取，或该月没有可回访的线索。"))
        return redirect(f"{request.path}?month={month:%Y-%m}")
    status = request.GET.get("status", "")
    if status not in CallBack.Status.values:
        status = ""
    qs = selectors.callback_list(request.user, month=month, status=status)
    errors: dict[int, dict] = {}
    if request.method == "POST":
        try:
            callback_id = int(request.POST.get("callback", ""))
        except ValueError:
            callback_id = 0
        try:
            callback_record(
                callback_id=callback_id,
                actor=request.user,
                status=request.POST.get("status", ""),
                outcome=request.POST.get("outcome", ""),
                notes=request.POST.get("notes", ""),
            )
        except TransitionError as exc:
            errors[callback_id] = {"message": exc.message, "fields": exc.errors, "data": request.POST}
        else:
            messages.success(request, _("回访结果已记录。"))
            return redirect(f"{request.path}?month={month:%Y-%m}")
    rows = list(qs[: PAGE_SIZE * 4])
    counts = dict.fromkeys(CallBack.Status.values, 0)
    for row in CallBack.objects.filter(
        month=month, lead__in=selectors.lead_list_visible_to(request.user)
    ).values_list("status", flat=True):
        counts[row] += 1
    return render(
        request,
        "leads/callbacks.html",
        {
            "rows": [{"c": c, "error": errors.get(c.pk)} for c in rows],
            "month": month,
            "prev": _previous_month(month),
            "next": month_start(month + dt.timedelta(days=32)),
            "status": status,
            "counts": counts,
            "outcomes": CallBack.Outcome.choices,
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )


@never_cache
@role_required(*ALL_ROLES)
def lead_print(request, pk: int):
    """线索办理审批表: the lead, each unit's result with its head's sign-off, and the closure sign-off."""
    lead = selectors.lead_get_visible(request.user, pk)
    rows = [
        {"a": a, "findings_visible": selectors.can_see_findings(request.user, a)}
        for a in lead.assignment_list
        if a.status != "withdrawn"
    ]
    return render(
        request,
        "leads/print.html",
        {
            "lead": lead,
            "rows": rows,
            "signoffs": selectors.lead_signoffs(lead),
            "printed_at": timezone.localtime(),
        },
    )


@never_cache
@role_required(Role.OFFICE, Role.LEADER, Role.ADMIN, Role.POLICE, Role.DISCIPLINE)
@require_POST
def lead_export(request):
    """The register as an Excel workbook: the same filters as the page, only leads the user may see."""
    from openpyxl import Workbook

    base = selectors.lead_list_visible_to(request.user)
    filterset = LeadFilter(request.POST or None, queryset=base.order_by("-created_at", "-id"))
    qs = filterset.qs if filterset.is_bound else filterset.queryset
    qs = selectors.lead_list_with_related(qs)[:EXPORT_MAX_ROWS]
    now = timezone.now()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("线索台账"))
    ws.append(
        [
            _("线索编号"),
            _("线索来源"),
            _("行业领域"),
            _("发生地区"),
            _("线索摘要"),
            _("承办单位"),
            _("状态"),
            _("红黄灯"),
            _("最近期限"),
            _("核查结论"),
            _("办结方式"),
            _("登记时间"),
            _("办结时间"),
        ]
    )
    labels = {"green": _("绿灯"), "yellow": _("黄灯"), "red": _("红灯"), "black": _("超期")}
    count = 0
    for lead in qs:
        count += 1
        light = selectors.traffic_light(lead.deadline, now) if lead.status != "closed" else ""
        ws.append(
            [
                lead.number,
                lead.source.name if lead.source_id else "",
                lead.sector.name,
                lead.region.name,
                lead.summary[:500],
                "、".join(u.short_name or u.name for u in selectors.lead_units(lead)),
                lead.get_status_display(),
                labels.get(light, ""),
                timezone.localtime(lead.deadline).strftime("%Y-%m-%d") if lead.deadline else "",
                lead.get_result_display(),
                lead.get_disposition_display(),
                timezone.localtime(lead.created_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(lead.closed_at).strftime("%Y-%m-%d %H:%M") if lead.closed_at else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    audit_record(
        actor=request.user,
        action="lead_export",
        data={
            "rows": count,
            "filters": {k: v for k, v in request.POST.lists() if k != "csrfmiddlewaretoken"},
        },
        ip=client_ip(request),
    )
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="leads-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx"'
    )
    return response
