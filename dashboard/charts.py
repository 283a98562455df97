"""Chart payloads for static/js/dashboard.js: the selectors' numbers, trimmed to what a chart plots.

Passed to the page with `json_script` (no inline script); the same numbers appear in a table beside
each chart.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RESULT_LABELS = {
    "substantiated": gettext_lazy("属实"),
    "partly": gettext_lazy("部分属实"),
    "unsubstantiated": gettext_lazy("不属实（查否）"),
    "cannot_verify": gettext_lazy("无法核实"),
}


def stages_chart(data: dict) -> dict:
    return {
        "type": "stages",
        "title": str(_("办理环节中位用时（天）")),
        "labels": [s["label"] for s in data["stages"]],
        "values": [s["median_days"] for s in data["stages"]],
    }


def results_chart(data: dict) -> dict:
    leads = data["leads"]
    # The chart shows the concluded leads; those still without a result are a row of the table only.
    items = [{"name": str(RESULT_LABELS[k]), "value": v, "key": k} for k, v in leads["results"].items()]
    return {
        "type": "results",
        "title": str(_("本期登记线索的核查结论")),
        "items": items,
        "pending": leads["pending"],
        "pending_label": str(_("尚无结论")),
    }


def channels_chart(data: dict) -> dict:
    return {
        "type": "channels",
        "title": str(_("举报渠道趋势")),
        "buckets": data["buckets"],
        "series": [{"name": s["label"], "code": s["code"], "data": s["data"]} for s in data["series"]],
        "online_share": data["online_share"],
        "online_label": str(_("网上渠道占比（%）")),
    }


def matrix_chart(data: dict) -> dict:
    cells = []
    for y, row in enumerate(data["rows"]):
        for x, cell in enumerate(row["cells"]):
            cells.append([x, y, cell["found"], cell["registered"]])
    return {
        "type": "matrix",
        "title": str(_("行业×地区查实线索（0 为盲区）")),
        "regions": [r["name"] for r in data["regions"]],
        "sectors": [r["sector_name"] for r in data["rows"]],
        "cells": cells,
        "max": max((c[2] for c in cells), default=0),
        "labels": {"found": str(_("查实")), "registered": str(_("登记")), "blind": str(_("盲区"))},
    }


def units_chart(data: dict) -> dict:
    rows = [u for u in data["units"] if u["assignments"] or u["publicity"]]
    rows = rows[:20]
    return {
        "type": "units",
        "title": str(_("成员单位按期反馈率与超期数")),
        "units": [u["name"] for u in rows],
        "on_time_rate": [u["on_time_rate"] for u in rows],
        "overdue": [u["overdue"] for u in rows],
        "labels": {"rate": str(_("按期反馈率（%）")), "overdue": str(_("当前超期"))},
    }
