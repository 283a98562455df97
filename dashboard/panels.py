"""Home-page panels (a dashboard digest for leaders and the office; the unit's own figures for liaisons
and unit heads), and the demo/load hooks that build the rollups after data is generated."""

from django.urls import reverse
from django.utils.translation import gettext as _

from campaign.roles import Role

from . import rollups, selectors
from .access import DASHBOARD_ROLES, UNIT_PANEL_ROLES
from .filters import DashboardFilterForm

TEMPLATE = "dashboard/panels/figures.html"


def _default_filters(user):
    form = DashboardFilterForm({})
    if not form.is_valid():
        return None
    return form.filters(user=user)


def dashboard_panel(request):
    user = request.user
    if not user.is_authenticated or user.role not in DASHBOARD_ROLES:
        return None
    filters = _default_filters(user)
    if filters is None:
        return None
    data = selectors.overview(filters)
    leads, tips = data["leads"], data["tips"]
    url = reverse("dashboard:overview")
    return {
        "title": _("驾驶舱摘要 · %s") % filters.label,
        "icon": "speedometer2",
        "template": TEMPLATE,
        "url": url,
        "order": 5 if user.role == Role.LEADER else 50,
        "rows": [
            {"label": _("本周举报"), "value": tips["week"]["count"], "change": tips["week"]["change"]},
            {"label": _("本期登记线索"), "value": leads["registered"]},
            {"label": _("查实率"), "value": leads["found_share"], "suffix": "%"},
            {"label": _("当前在办"), "value": leads["open"]},
            {"label": _("当前超期"), "value": leads["overdue"], "css": "overdue" if leads["overdue"] else ""},
            {
                "label": _("超时未签收"),
                "value": leads["not_accepted"],
                "css": "overdue" if leads["not_accepted"] else "",
            },
        ],
        "as_of": data["as_of"],
    }


def unit_panel(request):
    """Liaisons and unit heads: their own unit's figures only (the city-wide dashboard refuses them)."""
    user = request.user
    if not user.is_authenticated or user.role not in UNIT_PANEL_ROLES or not user.unit_id:
        return None
    filters = _default_filters(user)
    if filters is None:
        return None
    row = selectors.unit_scorecard(unit_id=user.unit_id, filters=filters)
    if row is None:
        return None
    return {
        "title": _("本单位办理情况 · %s") % filters.label,
        "icon": "bar-chart",
        "template": TEMPLATE,
        "order": 15,
        "rows": [
            {"label": _("承办线索"), "value": row["assignments"]},
            {"label": _("按期反馈率"), "value": row["on_time_rate"], "suffix": "%"},
            {"label": _("当前在办"), "value": row["open"]},
            {"label": _("当前超期"), "value": row["overdue"], "css": "overdue" if row["overdue"] else ""},
            {
                "label": _("超时未签收"),
                "value": row["not_accepted"],
                "css": "overdue" if row["not_accepted"] else "",
            },
            {"label": _("退回重查率"), "value": row["returned_share"], "suffix": "%"},
        ],
        "as_of": selectors.as_of(),
    }


def seed_rollups(stdout=None) -> dict:
    """seed_demo: build the rollups from the demo tips and leads (they were written behind the beat's back)."""
    return rollups.rollup_refresh_full().as_dict()


def load_rollups(*, tips: int, stdout=None, seed: int = 2026) -> dict:
    """generate_load: the loaders COPY rows in bulk without events, so rebuild the rollups in full."""
    return rollups.rollup_refresh_full().as_dict()
