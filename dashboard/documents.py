"""Export documents of the dashboard: each dashboard view, a unit's leads, and the weekly and monthly
report to higher authorities (summary, by sector, by region, by unit, overdue list)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.models import Region, Sector, Unit

from . import selectors
from .exports import Column, ExportDocument, Sheet
from .filters import DashboardFilters, filters_from_params, month_bounds, sees_restricted_counts, week_bounds

VIEW_TITLES = {
    "overview": gettext_lazy("扫黑除恶线索工作总览"),
    "channels": gettext_lazy("举报渠道趋势"),
    "matrix": gettext_lazy("行业×地区查实线索分布（盲区分析）"),
    "units": gettext_lazy("成员单位办理情况排名"),
}


def form_errors(form) -> dict[str, list[str]]:
    return {field: [e["message"] for e in errors] for field, errors in form.errors.get_json_data().items()}


def _filters(user, params: dict) -> DashboardFilters:
    filters, form = filters_from_params(params, user=user)
    if filters is None:
        raise ValidationError(form_errors(form))
    return filters


def validate_filter_params(params: dict) -> dict:
    """Keep only the filter parameters, and refuse invalid ones with field errors."""
    keys = ("period", "phase", "date_from", "date_to", "region", "sector", "channel")
    cleaned = {k: str(params[k]) for k in keys if params.get(k) not in (None, "")}
    _filters(None, cleaned)
    return cleaned


def describe(filters: DashboardFilters) -> str:
    parts = [
        _("统计时段：%(label)s（%(start)s 至 %(end)s）")
        % {
            "label": filters.label or _("自定义"),
            "start": f"{filters.date_from:%Y-%m-%d}",
            "end": f"{filters.date_to:%Y-%m-%d}",
        }
    ]
    if filters.region_id:
        parts.append(_("地区：%s") % Region.objects.get(pk=filters.region_id).name)
    if filters.sector_id:
        parts.append(_("行业领域：%s") % Sector.objects.get(pk=filters.sector_id).name)
    if filters.channel:
        from reports.models import Channel

        parts.append(_("举报渠道：%s") % Channel(filters.channel).label)
    if not filters.include_restricted:
        parts.append(_("不含限制知悉线索"))
    parts.append(_("导出时间：%s") % timezone.localtime().strftime("%Y-%m-%d %H:%M"))
    return "；".join(parts)


def _pct(value) -> str | float:
    return "" if value is None else value


# --- dashboard views ---------------------------------------------------------------------------------
def overview_rows(data: dict) -> list[list]:
    t, leads = data["tips"], data["leads"]
    rows = [
        [_("本周举报"), t["week"]["count"], t["week"]["previous"], _pct(t["week"]["change"])],
        [_("本月举报"), t["month"]["count"], t["month"]["previous"], _pct(t["month"]["change"])],
        [_("所选时段举报"), t["period"]["count"], t["period"]["previous"], _pct(t["period"]["change"])],
        [_("本期登记线索"), leads["registered"], "", ""],
        [_("已有核查结论"), leads["concluded"], "", ""],
        [_("查实（含部分属实）"), leads["found"], "", ""],
        [_("查实率（%）"), _pct(leads["found_share"]), "", ""],
        [_("已办结"), leads["closed"], "", ""],
        [_("其中查否办结（不计入查实）"), leads["closed_unsubstantiated"], "", ""],
        [_("当前在办线索"), leads["open"], "", ""],
        [_("当前超期线索"), leads["overdue"], "", ""],
        [_("超时未签收线索"), leads["not_accepted"], "", ""],
    ]
    for stage in data["stages"]:
        rows.append([_("中位用时（天）：%s") % stage["label"], _pct(stage["median_days"]), stage["n"], ""])
    rows.append([_("已发放举报奖励（笔）"), data["rewards"]["count"], "", ""])
    rows.append([_("已发放举报奖励金额（元）"), data["rewards"]["amount"], "", ""])
    acc = data["accountability"]
    if acc is not None:
        rows.append([_("在办问责措施"), acc["open"], "", ""])
        rows.append([_("待确认问责建议"), acc["drafts"], "", ""])
    return rows


def overview_document(*, user, params: dict) -> ExportDocument:
    filters = _filters(user, params)
    data = selectors.overview(filters)
    sheet = Sheet(
        title=_("总览"),
        columns=[
            Column(_("指标"), 34),
            Column(_("本期"), 14),
            Column(_("上期/样本数"), 14),
            Column(_("环比（%）"), 12, "percent"),
        ],
        rows=overview_rows(data),
    )
    return ExportDocument(title=VIEW_TITLES["overview"], subtitle=describe(filters), sheets=[sheet])


def channels_document(*, user, params: dict) -> ExportDocument:
    filters = _filters(user, params)
    data = selectors.channels(filters)
    columns = [Column(_("时间"), 12)] + [Column(s["label"], 11, "int") for s in data["series"]]
    columns += [Column(_("合计"), 10, "int"), Column(_("网上渠道占比（%）"), 14, "percent")]
    rows = []
    for i, label in enumerate(data["buckets"]):
        rows.append(
            [label, *[s["data"][i] for s in data["series"]], data["totals"][i], _pct(data["online_share"][i])]
        )
    rows.append(
        [_("合计"), *[s["total"] for s in data["series"]], data["total"], _pct(data["online_total_share"])]
    )
    return ExportDocument(
        title=VIEW_TITLES["channels"],
        subtitle=describe(filters),
        sheets=[Sheet(title=_("渠道趋势"), columns=columns, rows=rows)],
    )


def matrix_sheets(data: dict) -> list[Sheet]:
    regions = data["regions"]
    columns = [Column(_("行业领域"), 14), Column(_("牵头单位"), 16)]
    columns += [Column(r["name"], 9, "int") for r in regions] + [Column(_("合计"), 9, "int")]
    found_rows, registered_rows = [], []
    for row in data["rows"]:
        found_rows.append(
            [row["sector_name"], row["lead_unit"], *[c["found"] for c in row["cells"]], row["found"]]
        )
        registered_rows.append(
            [
                row["sector_name"],
                row["lead_unit"],
                *[c["registered"] for c in row["cells"]],
                row["registered"],
            ]
        )
    found_rows.append([_("合计"), "", *[c["found"] for c in data["column_totals"]], data["found"]])
    registered_rows.append(
        [_("合计"), "", *[c["registered"] for c in data["column_totals"]], data["registered"]]
    )
    names = {r["code"]: r["name"] for r in regions}
    blind = [
        [c["sector_name"], names[c["region"]], _("无线索") if c["empty"] else _("有线索、无查实")]
        for c in data["blind_cells"]
    ]
    flagged = [
        [_("行业领域"), s["name"], _("本期无查实线索（登记 %(n)s 条）") % {"n": s["registered"]}]
        for s in data["sectors_without_case"]
    ]
    flagged += [
        [
            _("成员单位"),
            u["name"],
            _("本期未承办任何线索")
            if u["none_handled"]
            else _("承办 %(n)s 件，无查实") % {"n": u["assignments"]},
        ]
        for u in data["units_without_case"]
    ]
    return [
        Sheet(title=_("查实线索"), columns=columns, rows=found_rows, notes=[_("单元格为 0 即为盲区。")]),
        Sheet(title=_("登记线索"), columns=columns, rows=registered_rows),
        Sheet(
            title=_("盲区清单"),
            columns=[Column(_("行业领域"), 14), Column(_("地区"), 12), Column(_("情况"), 20)],
            rows=blind,
        ),
        Sheet(
            title=_("无案件行业与单位"),
            columns=[Column(_("类别"), 10), Column(_("名称"), 22), Column(_("情况"), 30)],
            rows=flagged,
        ),
    ]


def matrix_document(*, user, params: dict) -> ExportDocument:
    filters = _filters(user, params)
    return ExportDocument(
        title=VIEW_TITLES["matrix"],
        subtitle=describe(filters),
        sheets=matrix_sheets(selectors.matrix(filters)),
    )


UNIT_COLUMNS = [
    Column(gettext_lazy("排名"), 6, "int"),
    Column(gettext_lazy("单位"), 20),
    Column(gettext_lazy("承办"), 8, "int"),
    Column(gettext_lazy("已反馈"), 8, "int"),
    Column(gettext_lazy("按期反馈"), 9, "int"),
    Column(gettext_lazy("按期率（%）"), 10, "percent"),
    Column(gettext_lazy("在办"), 8, "int"),
    Column(gettext_lazy("超期"), 8, "int"),
    Column(gettext_lazy("超时未签收"), 10, "int"),
    Column(gettext_lazy("退回重查"), 9, "int"),
    Column(gettext_lazy("退回率（%）"), 10, "percent"),
    Column(gettext_lazy("查实"), 8, "int"),
    Column(gettext_lazy("退单"), 8, "int"),
    Column(gettext_lazy("宣传发动（次）"), 12, "int"),
    Column(gettext_lazy("覆盖人数"), 10, "int"),
]


def unit_rows(data: dict) -> list[list]:
    return [
        [
            u["rank"],
            u["name"],
            u["assignments"],
            u["submitted"],
            u["on_time"],
            _pct(u["on_time_rate"]),
            u["open"],
            u["overdue"],
            u["not_accepted"],
            u["returned"],
            _pct(u["returned_share"]),
            u["found"],
            u["sent_back"],
            u["publicity"],
            u["publicity_reach"],
        ]
        for u in data["units"]
    ]


def units_document(*, user, params: dict) -> ExportDocument:
    filters = _filters(user, params)
    sheet = Sheet(title=_("单位排名"), columns=UNIT_COLUMNS, rows=unit_rows(selectors.units(filters)))
    return ExportDocument(title=VIEW_TITLES["units"], subtitle=describe(filters), sheets=[sheet])


# --- a unit's leads (register-like, may be long: runs in a worker) -------------------------------------
LEAD_COLUMNS = [
    Column(gettext_lazy("线索编号"), 18),
    Column(gettext_lazy("登记时间"), 17, "datetime"),
    Column(gettext_lazy("状态"), 10),
    Column(gettext_lazy("行业领域"), 12),
    Column(gettext_lazy("地区"), 10),
    Column(gettext_lazy("最近期限"), 17, "datetime"),
    Column(gettext_lazy("核查结论"), 10),
    Column(gettext_lazy("办结方式"), 12),
    Column(gettext_lazy("线索摘要"), 60),
]


def lead_rows(qs):
    from leads.models import Disposition, LeadStatus, Result

    status, result, disposition = dict(LeadStatus.choices), dict(Result.choices), dict(Disposition.choices)
    for row in qs.values_list(
        "number",
        "created_at",
        "status",
        "sector__name",
        "region__name",
        "deadline",
        "result",
        "disposition",
        "summary",
    ).iterator(chunk_size=2000):
        number, created, st, sector, region, deadline, res, disp, summary = row
        yield [
            number,
            created,
            str(status.get(st, st)),
            sector,
            region,
            deadline,
            str(result.get(res, res)) if res else "",
            str(disposition.get(disp, disp)) if disp else "",
            (summary or "")[:32000],
        ]


def validate_unit_leads(params: dict) -> dict:
    cleaned = validate_filter_params(params)
    unit = str(params.get("unit") or "")
    if not Unit.objects.filter(code=unit).exists():
        raise ValidationError({"unit": [_("请选择一个成员单位。")]})
    state = str(params.get("state") or "all")
    if state not in selectors.DRILL_STATES:
        raise ValidationError({"state": [_("没有这种办理情况。")]})
    return {**cleaned, "unit": unit, "state": state}


def unit_leads_document(*, user, params: dict) -> ExportDocument:
    filters = _filters(user, params)
    unit = Unit.objects.get(code=params["unit"])
    qs = selectors.unit_leads(user=user, unit=unit, filters=filters, state=params.get("state", "all"))
    sheet = Sheet(title=_("线索清单"), columns=LEAD_COLUMNS, rows=lead_rows(qs), total=qs.count())
    title = _("%(unit)s承办线索清单（%(state)s）") % {
        "unit": unit.short_name or unit.name,
        "state": selectors.DRILL_STATES[params.get("state", "all")],
    }
    return ExportDocument(title=title, subtitle=describe(filters), sheets=[sheet])


# --- weekly and monthly report to higher authorities -------------------------------------------------------
REPORT_KINDS = {"weekly": gettext_lazy("周报"), "monthly": gettext_lazy("月报")}


def report_period(kind: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    return week_bounds(anchor) if kind == "weekly" else month_bounds(anchor)


def default_report_anchor(kind: str, today: dt.date | None = None) -> dt.date:
    """The last complete week or month before today."""
    today = today or timezone.localdate()
    if kind == "weekly":
        return week_bounds(today)[0] - dt.timedelta(days=7)
    return month_bounds(today)[0] - dt.timedelta(days=1)


def validate_report(params: dict) -> dict:
    kind = str(params.get("report") or "weekly")
    if kind not in REPORT_KINDS:
        raise ValidationError({"report": [_("报表类型只能是周报或月报。")]})
    raw = str(params.get("date") or "")
    if raw:
        try:
            anchor = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError({"date": [_("请输入有效的日期（YYYY-MM-DD）。")]})
    else:
        anchor = default_report_anchor(kind)
    start, _end = report_period(kind, anchor)
    if start > timezone.localdate():
        raise ValidationError({"date": [_("报表时段尚未开始。")]})
    return {"report": kind, "date": anchor.isoformat()}


def report_title(kind: str, start: dt.date, end: dt.date) -> str:
    city = Region.objects.filter(level=Region.Level.CITY).values_list("name", flat=True).first() or ""
    if kind == "weekly":
        iso_year, week, _weekday = start.isocalendar()
        when = _("%(year)s年第%(week)s周") % {"year": iso_year, "week": week}
    else:
        when = _("%(year)s年%(month)s月") % {"year": start.year, "month": start.month}
    return _("%(city)s扫黑除恶专项斗争线索办理情况%(kind)s（%(when)s）") % {
        "city": city,
        "kind": REPORT_KINDS[kind],
        "when": when,
    }


def _by_dimension_rows(items, tips: dict, leads: dict, key) -> list[list]:
    rows = []
    totals = [0] * 7
    for item in items:
        t = tips.get(item.pk, 0)
        lc = leads.get(item.pk, {})
        values = [
            t,
            lc.get("registered", 0),
            lc.get("concluded", 0),
            lc.get("found", 0),
            lc.get("closed", 0),
            lc.get("open", 0),
            lc.get("overdue", 0),
        ]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        share = round(values[3] * 100.0 / values[2], 1) if values[2] else ""
        rows.append([key(item), *values[:4], share, *values[4:]])
    share = round(totals[3] * 100.0 / totals[2], 1) if totals[2] else ""
    rows.append([_("合计"), *totals[:4], share, *totals[4:]])
    return rows


DIMENSION_COLUMNS = [
    Column(gettext_lazy("收到举报"), 10, "int"),
    Column(gettext_lazy("登记线索"), 10, "int"),
    Column(gettext_lazy("有核查结论"), 11, "int"),
    Column(gettext_lazy("查实"), 8, "int"),
    Column(gettext_lazy("查实率（%）"), 11, "percent"),
    Column(gettext_lazy("办结"), 8, "int"),
    Column(gettext_lazy("当前在办"), 10, "int"),
    Column(gettext_lazy("当前超期"), 10, "int"),
]

OVERDUE_COLUMNS = [
    Column(gettext_lazy("序号"), 6, "int"),
    Column(gettext_lazy("线索编号"), 18),
    Column(gettext_lazy("行业领域"), 12),
    Column(gettext_lazy("地区"), 10),
    Column(gettext_lazy("承办单位"), 18),
    Column(gettext_lazy("派单时间"), 17, "datetime"),
    Column(gettext_lazy("办理期限"), 17, "datetime"),
    Column(gettext_lazy("超期天数"), 9, "int"),
    Column(gettext_lazy("状态"), 10),
    Column(gettext_lazy("督办等级"), 9, "int"),
]


def overdue_rows(qs, now: dt.datetime):
    from leads.models import AssignmentStatus

    labels = dict(AssignmentStatus.choices)
    fields = (
        "lead__number",
        "lead__sector__name",
        "lead__region__name",
        "unit__short_name",
        "unit__name",
        "assigned_at",
        "deadline",
        "status",
        "escalation_level",
    )
    for i, row in enumerate(qs.values_list(*fields).iterator(chunk_size=2000), start=1):
        number, sector, region, short, name, assigned, deadline, status, level = row
        yield [
            i,
            number,
            sector,
            region,
            short or name,
            assigned,
            deadline,
            (now - deadline).days,
            str(labels.get(status, status)),
            level,
        ]


def report_document(*, user, params: dict, now: dt.datetime | None = None) -> ExportDocument:
    kind = params["report"]
    start, end = report_period(kind, dt.date.fromisoformat(params["date"]))
    now = now or timezone.now()
    filters = DashboardFilters(
        date_from=start,
        date_to=end,
        period="week" if kind == "weekly" else "month",
        include_restricted=sees_restricted_counts(user),
        today=min(end, timezone.localdate()),
        label=f"{start:%Y-%m-%d} — {end:%Y-%m-%d}",
    )
    title = report_title(kind, start, end)
    subtitle = describe(filters)
    data = selectors.overview(filters, now=now)
    previous = selectors.overview(filters.previous(), now=now)
    channel_shares = selectors.channels(filters)

    def row(label, current, before=""):
        change = ""
        if isinstance(current, int | float) and isinstance(before, int | float) and before:
            change = round((current - before) * 100.0 / before, 1)
        return [label, current, before, change]

    lc, lp = data["leads"], previous["leads"]
    summary_rows = [
        row(_("收到举报（件）"), data["tips"]["period"]["count"], data["tips"]["period"]["previous"]),
        row(_("其中网上渠道占比（%）"), _pct(channel_shares["online_total_share"])),
        row(_("登记线索（条）"), lc["registered"], lp["registered"]),
        row(_("有核查结论（条）"), lc["concluded"], lp["concluded"]),
        row(_("查实，含部分属实（条）"), lc["found"], lp["found"]),
        row(_("查实率（%）"), _pct(lc["found_share"]), _pct(lp["found_share"])),
        row(_("办结（条）"), lc["closed"], lp["closed"]),
        row(_("其中查否办结（条，不计入查实）"), lc["closed_unsubstantiated"], lp["closed_unsubstantiated"]),
        row(_("截至目前在办（条）"), lc["open"]),
        row(_("截至目前超期（条）"), lc["overdue"]),
        row(_("超时未签收（条）"), lc["not_accepted"]),
        row(_("发放举报奖励（笔）"), data["rewards"]["count"], previous["rewards"]["count"]),
        row(_("发放举报奖励金额（元）"), data["rewards"]["amount"], previous["rewards"]["amount"]),
    ]
    for stage in data["stages"]:
        summary_rows.append(row(_("中位用时（天）：%s") % stage["label"], _pct(stage["median_days"])))
    if data["accountability"] is not None:
        summary_rows.append(row(_("在办问责措施（件）"), data["accountability"]["open"]))

    sectors = list(Sector.objects.order_by("sort_order", "code"))
    regions = list(Region.objects.order_by("sort_order", "code"))
    overdue = selectors.overdue_assignments(user=user, filters=filters, now=now)
    overdue_total = overdue.count()
    return ExportDocument(
        title=title,
        subtitle=subtitle,
        sheets=[
            Sheet(
                title=_("汇总"),
                heading=title,
                columns=[
                    Column(_("项目"), 34),
                    Column(_("本期"), 14),
                    Column(_("上期"), 14),
                    Column(_("环比（%）"), 12, "percent"),
                ],
                rows=summary_rows,
            ),
            Sheet(
                title=_("分行业"),
                heading=title + " " + _("分行业领域"),
                columns=[Column(_("行业领域"), 14), *DIMENSION_COLUMNS],
                rows=_by_dimension_rows(
                    sectors,
                    selectors.tip_counts_by("sector_id", filters),
                    selectors.lead_counts_by("sector_id", filters, now=now),
                    lambda s: s.name,
                ),
            ),
            Sheet(
                title=_("分地区"),
                heading=title + " " + _("分地区"),
                columns=[Column(_("地区"), 14), *DIMENSION_COLUMNS],
                rows=_by_dimension_rows(
                    regions,
                    selectors.tip_counts_by("region_id", filters),
                    selectors.lead_counts_by("region_id", filters, now=now),
                    lambda r: r.name if r.level != Region.Level.CITY else _("市本级"),
                ),
            ),
            Sheet(
                title=_("分单位"),
                heading=title + " " + _("分成员单位"),
                columns=UNIT_COLUMNS,
                rows=unit_rows(selectors.units(filters, now=now)),
            ),
            Sheet(
                title=_("超期清单"),
                heading=title + " " + _("超期线索清单"),
                notes=[
                    _("截至 %s 仍未反馈且已过办理期限的分办任务。")
                    % timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
                ],
                columns=OVERDUE_COLUMNS,
                rows=overdue_rows(overdue, now),
                total=overdue_total,
            ),
        ],
    )
