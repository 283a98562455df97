"""Routing proposals: which unit(s) should verify a tip or lead, and why (a read; nothing is written here).

Rules are few (dozens), so they are loaded once per request and matched in Python; a page of fifty
tips costs the same two queries as one tip.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from campaign.models import Region, Sector, Unit

from .models import RoutingRule


@dataclass(frozen=True)
class Proposal:
    unit: Unit
    reason: str
    rule_id: int | None = None
    deadline_days: int | None = None

    def as_dict(self) -> dict:
        return {
            "unit": self.unit.code,
            "unit_name": self.unit.short_name or self.unit.name,
            "reason": self.reason,
            "rule": self.rule_id,
            "deadline_days": self.deadline_days,
        }


def routing_rules_load() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(is_active=True)
        .select_related("sector", "region")
        .prefetch_related("units")
        .order_by("priority", "id")
    )


def _matches(rule: RoutingRule, sector: Sector | None, region: Region | None, text: str) -> bool:
    if rule.sector_id and (sector is None or rule.sector_id != sector.pk):
        return False
    if rule.region_id and (region is None or rule.region_id not in (region.pk, region.parent_id)):
        return False
    keywords = rule.keyword_list()
    return not keywords or any(k in text for k in keywords)


def _specificity(rule: RoutingRule) -> int:
    return (4 if rule.keywords else 0) + (2 if rule.region_id else 0) + (1 if rule.sector_id else 0)


def _reason(rule: RoutingRule, unit: Unit, text: str) -> str:
    parts = []
    if rule.sector_id:
        parts.append(_("行业 %(name)s") % {"name": rule.sector.name})
    if rule.region_id:
        parts.append(_("地区 %(name)s") % {"name": rule.region.name})
    hits = [k for k in rule.keyword_list() if k in text]
    if hits:
        parts.append(_("关键词“%(words)s”") % {"words": "、".join(hits)})
    condition = " · ".join(parts) or _("全部举报")
    return _("%(condition)s → %(unit)s（规则 %(id)s）") % {
        "condition": condition,
        "unit": unit.short_name or unit.name,
        "id": rule.pk,
    }


def routing_propose(
    *,
    sector: Sector | None,
    region: Region | None,
    text: str = "",
    rules: list[RoutingRule] | None = None,
) -> list[Proposal]:
    """Units for a matter, each with the reason; the first matching rule wins (by priority, then the most
    specific), and the sector's lead regulator is the fallback. The office can always choose otherwise."""
    rules = routing_rules_load() if rules is None else rules
    matching = [r for r in rules if _matches(r, sector, region, text)]
    matching.sort(key=lambda r: (r.priority, -_specificity(r), r.pk))
    for rule in matching:
        units = [u for u in rule.units.all() if u.is_active]
        if units:
            return [Proposal(u, _reason(rule, u, text), rule.pk, rule.deadline_days) for u in units]
    if sector is not None and sector.lead_unit.is_active:
        unit = sector.lead_unit
        return [
            Proposal(
                unit,
                _("行业 %(sector)s 的牵头监管单位 → %(unit)s（无匹配规则）")
                % {"sector": sector.name, "unit": unit.short_name or unit.name},
            )
        ]
    return []


def routing_propose_for_tip(tip, rules: list[RoutingRule] | None = None) -> list[Proposal]:
    text = " ".join([tip.description or "", tip.accused or "", tip.location or ""])
    return routing_propose(sector=tip.sector, region=tip.region, text=text, rules=rules)


def routing_propose_for_lead(lead, rules: list[RoutingRule] | None = None) -> list[Proposal]:
    text = " ".join([lead.summary or "", lead.accused or ""])
    return routing_propose(sector=lead.sector, region=lead.region, text=text, rules=rules)


def routing_proposal_payload(proposals: list[Proposal]) -> dict:
    """The JSON kept on Tip.routing_proposal by the routing worker (issue 5) and shown on triage."""
    return {"units": [p.as_dict() for p in proposals]}


def routing_proposals_from_payload(payload: dict, units_by_code: dict[str, Unit]) -> list[Proposal]:
    out = []
    for item in (payload or {}).get("units", []):
        unit = units_by_code.get(item.get("unit"))
        if unit is not None:
            out.append(Proposal(unit, item.get("reason", ""), item.get("rule"), item.get("deadline_days")))
    return out
