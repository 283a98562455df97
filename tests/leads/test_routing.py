"""Routing proposals: rules by priority and specificity, keywords, regions, and the sector's lead regulator."""

import pytest

from leads.models import RoutingRule
from leads.routing import (
    routing_proposal_payload,
    routing_proposals_from_payload,
    routing_propose,
    routing_propose_for_tip,
)

from .factories import make_tip

pytestmark = pytest.mark.django_db


def _rule(name, units, priority=100, sector=None, region=None, keywords="", days=None):
    rule = RoutingRule.objects.create(
        name=name, sector=sector, region=region, keywords=keywords, priority=priority, deadline_days=days
    )
    rule.units.set(units)
    return rule


def test_without_rules_the_sectors_lead_regulator_is_proposed(campaign_data, sectors, regions):
    [p] = routing_propose(sector=sectors["transport"], region=regions["macun"])
    assert p.unit.code == "transport" and p.rule_id is None
    assert p.reason == "行业 交通运输 的牵头监管单位 → 市交通运输局（无匹配规则）"


def test_a_matching_rule_proposes_its_units_and_says_why(campaign_data, sectors, regions, units):
    rule = _rule("交通", [units["transport"]], sector=sectors["transport"], days=15)
    [p] = routing_propose(sector=sectors["transport"], region=regions["macun"])
    assert (p.unit.code, p.rule_id, p.deadline_days) == ("transport", rule.pk, 15)
    assert p.reason == f"行业 交通运输 → 市交通运输局（规则 {rule.pk}）"


def test_keyword_rule_with_higher_priority_wins_only_when_the_text_matches(
    campaign_data, sectors, regions, units
):
    _rule("工程", [units["housing"]], sector=sectors["construction"])
    special = _rule(
        "占地",
        [units["housing"], units["natural_resources"]],
        priority=10,
        sector=sectors["construction"],
        keywords="占地，砂石",
    )
    plain = routing_propose(sector=sectors["construction"], region=regions["xiuwu"], text="工地拖欠工资")
    assert [p.unit.code for p in plain] == ["housing"]
    hit = routing_propose(sector=sectors["construction"], region=regions["xiuwu"], text="强揽砂石并非法占地")
    assert [p.unit.code for p in hit] == ["housing", "natural_resources"]
    assert hit[1].reason == f"行业 工程建设 · 关键词“占地、砂石” → 市自然资源和规划局（规则 {special.pk}）"


def test_region_rules_match_the_district_and_city_rules_cover_all_districts(
    campaign_data, sectors, regions, units
):
    county = _rule(
        "修武矿产", [units["police"]], priority=50, sector=sectors["mining"], region=regions["xiuwu"]
    )
    city = _rule(
        "全市矿产",
        [units["natural_resources"]],
        priority=50,
        sector=sectors["mining"],
        region=regions["jiaozuo"],
    )
    assert routing_propose(sector=sectors["mining"], region=regions["xiuwu"])[0].rule_id == county.pk
    assert routing_propose(sector=sectors["mining"], region=regions["wenxian"])[0].rule_id == city.pk


def test_inactive_rules_are_ignored(campaign_data, sectors, regions, units):
    rule = _rule("旧规则", [units["police"]], sector=sectors["transport"])
    rule.is_active = False
    rule.save(update_fields=["is_active"])
    assert routing_propose(sector=sectors["transport"], region=regions["macun"])[0].unit.code == "transport"


def test_no_sector_no_proposal(campaign_data, regions):
    assert routing_propose(sector=None, region=regions["macun"]) == []


def test_tip_proposal_reads_description_and_round_trips_as_json(campaign_data, sectors, regions, units):
    _rule(
        "套路贷",
        [units["police"], units["finance"]],
        priority=10,
        sector=sectors["lending"],
        keywords="套路贷",
    )
    tip = make_tip(
        sector=sectors["lending"], region=regions["wuzhi"], description="某公司放套路贷，暴力催收。"
    )
    proposals = routing_propose_for_tip(tip)
    assert [p.unit.code for p in proposals] == ["police", "finance"]
    payload = routing_proposal_payload(proposals)
    back = routing_proposals_from_payload(payload, {u.code: u for u in units.values()})
    assert [(p.unit.code, p.reason) for p in back] == [(p.unit.code, p.reason) for p in proposals]


def test_proposals_for_many_tips_cost_two_queries(
    campaign_data, sectors, regions, units, django_assert_num_queries
):
    from leads.routing import routing_rules_load

    _rule("交通", [units["transport"]], sector=sectors["transport"])
    tips = [make_tip(sector=sectors["transport"], region=regions["macun"]) for _ in range(5)]
    for t in tips:
        t.sector = sectors["transport"]
    with django_assert_num_queries(2):  # the rules (sector and region joined) and their units
        rules = routing_rules_load()
        for t in tips:
            routing_propose_for_tip(t, rules)
