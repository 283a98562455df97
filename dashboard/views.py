"""Dashboard pages, exports and the blind-spot proposal. Thin: selectors compute, templates show."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campaign.access import role_required
from campaign.audit import client_ip
from campaign.models import Region, Sector, Unit

from . import charts, documents, exports, selectors, services
from .access import DASHBOARD_ROLES, can_propose
from .filters import filters_from_params
from .models import ExportJob

VIEWS = ("overview", "channels", "matrix", "units")


def _context(request, filters, form, **extra) -> dict:
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "filters": filters,
        "query": query.urlencode(),
        "as_of": selectors.as_of(),
        "restricted_note": filters is not None and not filters.include_restricted,
        "filter_params": filters.as_params() if filters is not None else {},
        **extra,
    }


def _page(request, template: str, build, chart_builders=(), **extra):
    filters, form = filters_from_params(request.GET, user=request.user)
    data = build(filters) if filters is not None else None
    chart_list = [make(data) for make in chart_builders] if data is not None else []
    for chart in chart_list:
        chart["dom_id"] = f"chart-data-{chart['type']}"
    status = 200 if filters is not None else 400
    return render(
        request,
        template,
        _context(request, filters, form, data=data, charts=chart_list, **extra),
        status=status,
    )


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def overview(request):
    return _page(
        request, "dashboard/overview.html", selectors.overview, (charts.stages_chart, charts.results_chart)
    )


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def channels(request):
    return _page(request, "dashboard/channels.html", selectors.channels, (charts.channels_chart,))


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def matrix(request):
    return _page(
        request,
        "dashboard/matrix.html",
        selectors.matrix,
        (charts.matrix_chart,),
        can_propose=can_propose(request.user),
    )


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def units(request):
    return _page(request, "dashboard/units.html", selectors.units, (charts.units_chart,))


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def unit_leads(request, code: str):
    """Drill-down: a unit's leads behind its ranking row, as far as the viewer may see them."""
    unit = get_object_or_404(Unit, code=code)
    filters, form = filters_from_params(request.GET, user=request.user)
    state = request.GET.get("state", "all")
    if state not in selectors.DRILL_STATES:
        state = "all"
    page = None
    if filters is not None:
        qs = selectors.unit_leads(user=request.user, unit=unit, filters=filters, state=state)
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("state", None)
    return render(
        request,
        "dashboard/unit_leads.html",
        _context(
            request,
            filters,
            form,
            unit=unit,
            state=state,
            states=selectors.DRILL_STATES,
            page=page,
            base_query=query.urlencode(),
            now=timezone.now(),
        ),
        status=200 if filters is not None else 400,
    )


@never_cache
@require_GET
@login_required
def export_view(request, view: str, fmt: str):
    """A dashboard view as Excel or CSV, built in the request (a few hundred rows at most)."""
    if view not in VIEWS:
        raise Http404
    try:
        return exports.export_response(
            user=request.user,
            kind=f"dashboard.{view}",
            params=request.GET.dict(),
            fmt=fmt,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages.error(request, _("导出条件有误：%s") % "；".join(_flatten(exc)))
        return redirect(reverse(f"dashboard:{view}"))


def _flatten(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


# --- export jobs -----------------------------------------------------------------------------------------
@never_cache
@login_required
def export_new(request):
    """Confirm and start a (large) export: GET shows what will be exported, POST queues the job."""
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind", "")
    exporter = exports.exporter_get(kind)
    if exporter is None:
        raise Http404
    if not exporter.allowed(request.user):
        raise PermissionDenied
    params = {k: v for k, v in source.items() if k not in ("kind", "fmt", "csrfmiddlewaretoken", "next")}
    errors: dict = {}
    if request.method == "POST":
        try:
            job = exports.export_job_create(
                user=request.user,
                kind=kind,
                params=params,
                fmt=source.get("fmt", "xlsx"),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "message_dict") else {"__all__": exc.messages}
        else:
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse(exports.job_status(job), status=201)
            return redirect(f"{reverse('dashboard:exports')}?job={job.pk}")
    return render(
        request,
        "dashboard/export_new.html",
        {"exporter": exporter, "kind": kind, "params": params, "errors": errors},
        status=400 if errors else 200,
    )


@never_cache
@require_GET
@login_required
def export_list(request):
    """The user's own exports (newest first), with progress bars for those still running."""
    jobs = ExportJob.objects.filter(owner=request.user).order_by("-created_at")[:50]
    highlight = request.GET.get("job", "")
    return render(request, "dashboard/exports.html", {"jobs": jobs, "highlight": highlight})


def _job(request, job_id: uuid.UUID) -> ExportJob:
    try:
        return exports.export_job_get_for(user=request.user, job_id=job_id)
    except ExportJob.DoesNotExist:
        raise Http404


@never_cache
@require_GET
@login_required
def export_status(request, job_id: uuid.UUID):
    return JsonResponse(exports.job_status(_job(request, job_id)), json_dumps_params={"ensure_ascii": False})


@never_cache
@require_GET
@login_required
def export_download(request, job_id: uuid.UUID):
    """The finished file, to the user who made it, until it expires."""
    job = _job(request, job_id)
    if job.status != ExportJob.Status.DONE:
        raise Http404
    exporter = exports.exporter_get(job.kind)
    if exporter is None or not exporter.allowed(request.user):
        raise PermissionDenied
    path = exports.export_path(job)
    if path is None or not path.exists() or (job.expires_at and job.expires_at <= timezone.now()):
        raise Http404
    exports.export_download_record(job=job, user=request.user, ip=client_ip(request))
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 — FileResponse closes it
        as_attachment=True,
        filename=exports.job_filename(job),
        content_type=exports.CONTENT_TYPES[job.fmt],
    )


@never_cache
@require_GET
@role_required(*DASHBOARD_ROLES)
def reports(request):
    """The weekly and monthly report to higher authorities, and the dashboard exports."""
    weekly = documents.default_report_anchor("weekly")
    monthly = documents.default_report_anchor("monthly")
    jobs = ExportJob.objects.filter(owner=request.user).order_by("-created_at")[:10]
    return render(
        request,
        "dashboard/reports.html",
        {
            "weekly_anchor": weekly,
            "monthly_anchor": monthly,
            "weekly_title": documents.report_title("weekly", *documents.report_period("weekly", weekly)),
            "monthly_title": documents.report_title("monthly", *documents.report_period("monthly", monthly)),
            "jobs": jobs,
            "as_of": selectors.as_of(),
        },
    )


# --- blind spot → accountability proposal ------------------------------------------------------------------
@require_POST
@role_required(*DASHBOARD_ROLES)
def propose(request):
    if not can_propose(request.user):
        raise PermissionDenied
    sector = get_object_or_404(Sector, code=request.POST.get("sector", ""))
    region = Region.objects.filter(code=request.POST.get("region", "")).first()
    filters, form = filters_from_params(request.POST, user=request.user)
    back = request.POST.get("next") or reverse("dashboard:matrix")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("dashboard:matrix")
    if filters is None:
        messages.error(request, _("统计条件有误，未生成问责建议。"))
        return redirect(back)
    try:
        outcome = services.blind_spot_propose(
            sector=sector, region=region, filters=filters, actor=request.user, ip=client_ip(request)
        )
    except ValidationError as exc:
        messages.error(request, "；".join(_flatten(exc)))
        return redirect(back)
    if outcome.created:
        messages.success(request, _("已生成问责建议（待确认）：%s") % outcome.title)
    elif outcome.action is not None:
        messages.info(request, _("该盲区已有问责建议：%s") % outcome.title)
    else:
        messages.warning(request, outcome.title)
    return redirect(back)
