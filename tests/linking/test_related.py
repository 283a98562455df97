"""Suggestions for a tip or lead: reasons, ranking, dismissals, scoping and query budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.linking.models import ImportedCase
from leads.linking.selectors import related_for_lead, related_for_tip
from leads.linking.services import Ref, entities_index_case, link_dismiss
from reports.models import Tip

from .helpers import make_lead, make_tip, refs

pytestmark = pytest.mark.django_db

DESCRIPTIONS = [
    "解放区某小区二期工地的土方被一伙人垄断，施工队必须用他们的渣土车，价格比市场高一倍。",
    "山阳区农贸市场有人以管理费名义向摊贩强收费用，不交就掀摊子。",
    "马村区一家小额贷款公司放高利贷，逾期就派人上门泼油漆、堵锁眼。",
]


def test_two_tips_naming_the_same_phone_differently_show_each_other(campaign_data, users):
    a = make_tip(campaign_data, "工地土方被人垄断，带头的电话137-0391-1234。", channel="online")
    b = make_tip(
        campaign_data,
        "渣土车队霸占运输，联系人电话：１３７０３９１１２３４",
        channel="phone",
        region="shanyang",
    )
    for subject, other in ((a, b), (b, a)):
        items = refs(related_for_tip(tip=subject, user=users["office"]))
        item = items[("tip", other.pk)]
        assert item.status == "suggested"
        assert "同一电话 137****1234" in item.reasons
        assert item.code == other.tracking_code
        assert item.score >= 0.6


def test_same_company_is_found_through_the_looser_company_key(campaign_data, users):
    a = make_tip(campaign_data, "焦作市宏达建筑工程有限公司在工地强揽砂石。")
    b = make_tip(campaign_data, "河南省焦作市宏达建筑工程有限责任公司的人打伤了司机。", sector="transport")
    item = refs(related_for_tip(tip=b, user=users["office"]))[("tip", a.pk)]
    assert "同一公司 河南省焦作市宏达建筑工程有限责任公司" in item.reasons


def test_similar_descriptions_in_the_same_sector_and_region_are_suggested(campaign_data, users):
    a = make_tip(campaign_data, DESCRIPTIONS[0])
    b = make_tip(campaign_data, DESCRIPTIONS[0].replace("一倍", "好几成") + "希望有关部门管一管。")
    other_region = make_tip(campaign_data, DESCRIPTIONS[0], region="wuzhi")
    items = refs(related_for_tip(tip=b, user=users["office"]))
    reasons = items[("tip", a.pk)].reasons
    assert any(r.startswith("描述相似 0.") for r in reasons), reasons
    # Similarity is looked for in the same sector and region only (the narrowed candidate set).
    assert ("tip", other_region.pk) not in items


def test_same_place_and_sector_within_thirty_days(campaign_data, users):
    place = "解放区民主路与人民路交叉口东北角工地"
    a = make_tip(campaign_data, DESCRIPTIONS[0], location=place, days_ago=10)
    b = make_tip(campaign_data, "晚上有人在这里打架斗殴，拿着钢管。", location=place)
    old = make_tip(campaign_data, "工地门口停满了挖掘机。", location=place, days_ago=90)
    items = refs(related_for_tip(tip=b, user=users["office"]))
    assert "同一地点和领域（30天内）" in items[("tip", a.pk)].reasons
    assert ("tip", old.pk) not in items


def test_unrelated_tips_are_not_suggested(campaign_data, users):
    a = make_tip(campaign_data, DESCRIPTIONS[0], accused="张三")
    b = make_tip(campaign_data, DESCRIPTIONS[1], accused="李四", sector="markets", region="shanyang")
    c = make_tip(campaign_data, DESCRIPTIONS[2], accused="王五", sector="lending", region="macun")
    for tip in (a, b, c):
        assert related_for_tip(tip=tip, user=users["office"]).items == []


def test_an_entity_seen_everywhere_says_nothing(campaign_data, users, settings):
    settings.LINKING = {"HOT_MENTIONS": 2}
    tips = [
        make_tip(campaign_data, f"{d}举报电话0391-3568123。", region=r)
        for d, r in zip(DESCRIPTIONS, ["jiefang", "shanyang", "macun"], strict=True)
    ]
    assert related_for_tip(tip=tips[0], user=users["office"]).items == []


def test_a_tip_not_indexed_yet_still_finds_indexed_ones(campaign_data, users):
    a = make_tip(campaign_data, "工地土方被人垄断，电话13703911234。")
    b = make_tip(campaign_data, "车队霸占运输，电话137 0391 1234。", index=False)
    assert ("tip", a.pk) in refs(related_for_tip(tip=b, user=users["office"]))


def test_dismissed_suggestions_are_not_shown_on_either_page(campaign_data, users):
    a = make_tip(campaign_data, "电话13703911234的人强揽土方。")
    b = make_tip(campaign_data, "电话13703911234的人收保护费。", region="wuzhi")
    link_dismiss(actor=users["office"], source=Ref("tip", a.pk), target=Ref("tip", b.pk), reason="同名不同人")
    for subject in (a, b):
        related = related_for_tip(tip=subject, user=users["office"])
        assert related.items == []
        assert related.hidden == 1


def test_lead_related_reads_its_tips_entities_and_leaves_its_own_tips_out(campaign_data, users):
    from leads.services import tip_triage

    tip = make_tip(campaign_data, "焦作市宏达土石方工程有限公司强揽工地土方。")
    lead = tip_triage(tip_id=tip.pk, action="register", actor=users["office"]).lead
    other = make_tip(campaign_data, "宏达土石方工程有限公司的车队打人，电话13703911234。", region="wuzhi")
    items = refs(related_for_lead(lead=lead, user=users["office"]))
    assert ("tip", tip.pk) not in items
    assert "同一公司 焦作市宏达土石方工程有限公司" in items[("tip", other.pk)].reasons
    # And from the other side the tip shows both the tip and its lead.
    from_other = refs(related_for_tip(tip=other, user=users["office"]))
    assert ("tip", tip.pk) in from_other


def test_imported_cases_are_suggested_to_case_roles_only(campaign_data, users, units):
    case = ImportedCase.objects.create(
        kind="criminal",
        case_number="焦公刑〔2025〕1号",
        title="马某某寻衅滋事案",
        description="马某某纠集多人殴打司机，电话13703911234。",
        region=campaign_data["regions"]["jiefang"],
        row_hash="-",
    )
    entities_index_case(case_id=case.pk)
    tip = make_tip(campaign_data, "电话13703911234的人在工地打人。")
    assert ("case", case.pk) in refs(related_for_tip(tip=tip, user=users["office"]))
    Tip.objects.filter(pk=tip.pk).update(unit=units["housing"])
    tip.refresh_from_db()
    assert ("case", case.pk) not in refs(related_for_tip(tip=tip, user=users["liaison_housing"]))


def test_a_liaison_sees_only_related_items_in_its_scope(campaign_data, users, units):
    mine = make_tip(campaign_data, "电话13703911234的人强揽土方。")
    theirs = make_tip(campaign_data, "电话13703911234的人霸占运输。", sector="transport")
    Tip.objects.filter(pk=mine.pk).update(unit=units["housing"])
    Tip.objects.filter(pk=theirs.pk).update(unit=units["transport"])
    mine.refresh_from_db()
    assert refs(related_for_tip(tip=mine, user=users["liaison_housing"])) == {}
    assert ("tip", theirs.pk) in refs(related_for_tip(tip=mine, user=users["office"]))


def test_a_lead_on_the_same_phone_is_suggested_and_ranked_above_weaker_ones(campaign_data, users):
    tip = make_tip(campaign_data, "电话13703911234的人在工地强揽土方。" + DESCRIPTIONS[0])
    lead = make_lead(campaign_data, "13703911234 所在团伙强揽土方。")
    weak = make_tip(campaign_data, DESCRIPTIONS[0] + "还打人。")
    items = related_for_tip(tip=tip, user=users["office"]).items
    codes = [i.code for i in items]
    assert lead.number in codes and weak.tracking_code in codes
    scores = [i.score for i in items]
    assert scores == sorted(scores, reverse=True)


def test_suggestions_cost_the_same_number_of_queries_for_3_or_30_candidates(campaign_data, users):
    subject = make_tip(
        campaign_data, "电话13703911234的人强揽土方，焦作市宏达建筑工程有限公司。", accused="马建国"
    )

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            related_for_tip(tip=Tip.objects.get(pk=subject.pk), user=users["office"])
        return len(ctx.captured_queries)

    for i in range(3):
        make_tip(campaign_data, f"电话13703911234，第{i}次举报。", region="wuzhi")
    few = count()
    for i in range(27):
        make_tip(
            campaign_data,
            f"焦作市宏达建筑工程有限公司，第{i}次举报，马建国。",
            region="wuzhi",
            accused="马建国",
        )
    many = count()
    assert many == few
    assert many <= 14
