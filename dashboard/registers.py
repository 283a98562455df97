"""Exporters: the dashboard views, a unit's leads, the weekly/monthly report, and the tip and lead
registers. Registered from DashboardConfig.ready(); the registers' own pages link to the export page
with their query string (`?kind=reports.tips&status=new…`), so the lower apps never import the dashboard.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.roles import Role

from . import documents
from .access import DASHBOARD_ROLES
from .exports import Column, ExportDocument, Exporter, Sheet, register


def _filterset_params(filterset_class, params: dict) -> dict:
    """Keep the FilterSet's own parameters; refuse invalid ones with field errors."""
    names = set(filterset_class.base_filters)
    cleaned = {k: str(v) for k, v in params.items() if k in names and v not in (None, "")}
    fs = filterset_class(cleaned)
    if not fs.is_valid():
        raise ValidationError(documents.form_errors(fs.form))
    return cleaned


# --- tip register -----------------------------------------------------------------------------------------
TIP_COLUMNS = [
    Column(gettext_lazy("查询码"), 14),
    Column(gettext_lazy("收到时间"), 17, "datetime"),
    Column(gettext_lazy("举报渠道"), 11),
    Column(gettext_lazy("研判状态"), 12),
    Column(gettext_lazy("公开进度"), 10),
    Column(gettext_lazy("行业领域"), 12),
    Column(gettext_lazy("发生地区"), 10),
    Column(gettext_lazy("承办单位"), 14),
    Column(gettext_lazy("匿名"), 6),
    Column(gettext_lazy("举报人（脱敏）"), 20),
    Column(gettext_lazy("被举报人/单位"), 24),
    Column(gettext_lazy("举报内容"), 60),
]


def validate_tips(params: dict) -> dict:
    from reports.filters import TipFilter

    return _filterset_params(TipFilter, params)


def tips_document(*, user, params: dict) -> ExportDocument:
    from reports.filters import TipFilter
    from reports.models import Channel, PublicStatus, TipStatus
    from reports.selectors import tip_list_visible_to

    qs = TipFilter(params, queryset=tip_list_visible_to(user)).qs.order_by("-received_at", "-id")
    channel, status, public = dict(Channel.choices), dict(TipStatus.choices), dict(PublicStatus.choices)

    def rows():
        # Only the masked identity ever leaves: a reveal is a separate, logged act on the tip page.
        for row in qs.values_list(
            "tracking_code",
            "received_at",
            "channel",
            "status",
            "public_status",
            "sector__name",
            "region__name",
            "unit__short_name",
            "anonymous",
            "identity_masked",
            "accused",
            "description",
        ).iterator(chunk_size=2000):
            code, received, ch, st, pub, sector, region, unit, anonymous, masked, accused, text = row
            yield [
                code,
                received,
                str(channel.get(ch, ch)),
                str(status.get(st, st)),
                str(public.get(pub, pub)),
                sector,
                region,
                unit,
                anonymous,
                " ".join(v for v in (masked or {}).values() if v),
                (accused or "")[:2000],
                (text or "")[:32000],
            ]

    return ExportDocument(
        title=_("举报登记簿"),
        subtitle=_("条件：%s") % (", ".join(f"{k}={v}" for k, v in params.items()) or _("全部")),
        sheets=[Sheet(title=_("举报登记簿"), columns=TIP_COLUMNS, rows=rows(), total=qs.count())],
    )


# --- lead register ----------------------------------------------------------------------------------------
def validate_leads(params: dict) -> dict:
    from leads.filters import LeadFilter

    return _filterset_params(LeadFilter, params)


def leads_document(*, user, params: dict) -> ExportDocument:
    from leads.filters import LeadFilter
    from leads.selectors import lead_list_visible_to

    qs = LeadFilter(params, queryset=lead_list_visible_to(user)).qs.order_by("-created_at", "-id")
    return ExportDocument(
        title=_("线索登记簿"),
        subtitle=_("条件：%s") % (", ".join(f"{k}={v}" for k, v in params.items()) or _("全部")),
        sheets=[
            Sheet(
                title=_("线索登记簿"),
                columns=documents.LEAD_COLUMNS,
                rows=documents.lead_rows(qs),
                total=qs.count(),
            )
        ],
    )


def register_all() -> None:
    from reports.access import REGISTER_ROLES

    dash = frozenset(DASHBOARD_ROLES)
    for name, build in (
        ("overview", documents.overview_document),
        ("channels", documents.channels_document),
        ("matrix", documents.matrix_document),
        ("units", documents.units_document),
    ):
        register(
            Exporter(
                f"dashboard.{name}",
                documents.VIEW_TITLES[name],
                dash,
                build,
                documents.validate_filter_params,
            )
        )
    register(
        Exporter(
            "dashboard.unit_leads",
            gettext_lazy("成员单位承办线索清单"),
            dash,
            documents.unit_leads_document,
            documents.validate_unit_leads,
        )
    )
    register(
        Exporter(
            "dashboard.report",
            gettext_lazy("线索办理情况周报/月报"),
            frozenset({Role.OFFICE, Role.LEADER, Role.ADMIN}),
            documents.report_document,
            documents.validate_report,
        )
    )
    register(
        Exporter(
            "reports.tips",
            gettext_lazy("举报登记簿"),
            frozenset(REGISTER_ROLES),
            tips_document,
            validate_tips,
        )
    )
    register(
        Exporter(
            "leads.register",
            gettext_lazy("线索登记簿"),
            frozenset(
                {
                    Role.OFFICE,
                    Role.POLICE,
                    Role.LEADER,
                    Role.LIAISON,
                    Role.UNIT_HEAD,
                    Role.DISCIPLINE,
                    Role.ADMIN,
                }
            ),
            leads_document,
            validate_leads,
        )
    )
