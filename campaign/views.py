"""Public landing, per-role home pages, health and operations pages."""

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import home_panels, ops, workdays
from .access import role_required
from .roles import Role


@require_GET
def landing(request):
    """The public site's front page: report a tip, follow one up; staff login kept apart."""
    return render(request, "campaign/landing.html")


@never_cache
def home(request):
    if not request.user.is_authenticated:
        return redirect("public:landing")
    user = request.user
    context = {
        "panels": home_panels.panels_for(request),
        "calendar_missing": workdays.calendar_missing_years(timezone.localdate())
        if user.role in (Role.OFFICE, Role.ADMIN)
        else [],
    }
    return render(request, "campaign/home.html", context)


@never_cache
@require_GET
def healthz(request):
    report, db_ok = ops.health()
    return JsonResponse(report, status=200 if db_ok else 503, json_dumps_params={"ensure_ascii": False})


@never_cache
@role_required(Role.OFFICE, Role.ADMIN)
def ops_page(request):
    report, _ = ops.health()
    return render(request, "campaign/ops.html", {"health": report, "runs": ops.periodic_runs()})
