"""Writes of the dashboard: turning a blind spot into an accountability proposal (a draft the office
confirms, edits or dismisses in the accountability app). Rollup and export writes live in rollups.py
and exports.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from campaign.models import Region, Sector, Unit

from . import selectors
from .filters import DashboardFilters


def cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class ProposalOutcome:
    action: object | None
    created: bool
    title: str


def blind_spot_propose(
    *, sector: Sector, region: Region | None, filters: DashboardFilters, actor, ip: str | None = None
) -> ProposalOutcome:
    """Propose supervision (督办) of the units answerable for a blind spot: a sector × region cell (or a
    whole sector) where nothing was found in the period. One proposal per cell and period: a second
    click finds the first one (the accountability app's dedupe key)."""
    cell_filters = DashboardFilters(
        **{
            **filters.__dict__,
            "sector_id": sector.pk,
            "region_id": region.pk if region is not None and region.level != Region.Level.CITY else None,
        }
    )
    data = selectors.matrix(cell_filters)
    if data["found"] > 0:
        raise ValidationError({"sector": [_("所选范围本期已有查实线索，不属于盲区。")]})
    try:
        from accountability.models import ActionKind, ActionSource
        from accountability.services import action_propose
        from accountability.workflow import WorkflowError
    except ImportError:  # pragma: no cover — the accountability app is part of the project
        return ProposalOutcome(None, False, _("问责模块尚未启用，未生成问责建议。"))

    units = [sector.lead_unit]
    if region is not None:
        units += list(Unit.objects.filter(kind=Unit.Kind.COUNTY, region=region, is_active=True))
    place = region.name if region is not None else _("全市")
    registered = data["registered"]
    situation = (
        _("没有登记任何线索") if registered == 0 else _("登记线索 %(n)s 条，无一查实") % {"n": registered}
    )
    reasons = _(
        "经市扫黑办统计分析，%(start)s至%(end)s，%(place)s%(sector)s领域%(situation)s，属于扫黑除恶线索盲区。"
        "请%(unit)s对照行业监管职责，深入开展线索摸排，限期报告摸排情况。"
    ) % {
        "start": cn_date(filters.date_from),
        "end": cn_date(filters.date_to),
        "place": place,
        "sector": sector.name,
        "situation": situation,
        "unit": "、".join(u.short_name or u.name for u in units),
    }
    key = f"blind:{sector.code}:{region.code if region else 'all'}:{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}"
    from accountability.models import Action

    existed = Action.objects.filter(dedupe_key=key).first()
    if existed is not None:
        return ProposalOutcome(existed, False, existed.title)
    try:
        action = action_propose(
            kind=ActionKind.SUPERVISION,
            units=units,
            reasons=reasons,
            source=ActionSource.BLIND_SPOT,
            actor=actor,
            title=_("关于%(place)s%(sector)s领域线索盲区的督办建议")
            % {"place": place, "sector": sector.name},
            dedupe_key=key,
        )
    except WorkflowError as exc:
        raise ValidationError(exc.errors or {"__all__": [exc.message]})
    return ProposalOutcome(action, True, action.title)
