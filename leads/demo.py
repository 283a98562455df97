"""Demo data (`seed_demo`, order 30) and the load generator (`generate_load`, order 30) for leads.

The demo plays real histories through the services with a `now` in the past, so every timeline, deadline
and overdue figure is what the workflow itself would have produced.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from django.db import connection, transaction
from django.utils import timezone

from campaign.demo import DEMO_PASSWORD
from campaign.models import Region, Sector, Unit, User
from campaign.roles import Role
from reports.models import PublicStatus, Tip, TipStatus

from .models import (
    AssignmentStatus,
    Disposition,
    Lead,
    LeadSource,
    LeadStatus,
    LeadTip,
    Priority,
    Result,
    RoutingRule,
)
from .services import lead_register, lead_sources_ensure, lead_transition, tip_triage

# name, sector, region (None = any), keywords, units, priority, days
ROUTING_RULES = [
    (
        "工程建设中非法占地、强揽砂石",
        "construction",
        None,
        "占地 砂石 土方",
        ["housing", "natural_resources"],
        10,
        None,
    ),
    ("矿产资源盗采", "mining", None, "盗采 采砂 非法开采 盗挖", ["natural_resources", "police"], 10, 15),
    ("套路贷、暴力催收", "lending", None, "套路贷 暴力催收 高利 砍头息", ["police", "finance"], 10, 10),
    ("村霸、操纵选举", "grassroots", None, "村霸 选举 宗族 贿选", ["civil_affairs", "police"], 20, None),
    ("征地拆迁", "land_demolition", None, "", ["natural_resources", "police"], 50, None),
    ("工程建设", "construction", None, "", ["housing"], 100, None),
    ("建筑工程", "building", None, "", ["housing"], 100, None),
    ("交通运输", "transport", None, "", ["transport"], 100, None),
    ("车站码头", "stations_docks", None, "", ["transport", "police"], 100, None),
    ("矿产资源", "mining", None, "", ["natural_resources"], 100, None),
    ("渔业捕捞", "fishing", None, "", ["agriculture"], 100, None),
    ("商贸集市", "markets", None, "", ["market"], 100, None),
    ("批发市场", "wholesale", None, "", ["market"], 100, None),
    ("旅游景区", "tourism", None, "", ["culture_tourism"], 100, None),
    ("金融放贷", "lending", None, "", ["finance"], 100, None),
    ("基层组织", "grassroots", None, "", ["civil_affairs"], 100, None),
]

# Liaisons for the member units that have none among campaign's demo users, so every demo assignment
# can be signed for and answered by a real account.
EXTRA_LIAISONS = [
    ("liaison_police", "police", "孟凡"),
    ("liaison_agriculture", "agriculture", "田野"),
    ("liaison_culture_tourism", "culture_tourism", "苏雯"),
    ("liaison_finance", "finance", "钱程"),
    ("liaison_civil_affairs", "civil_affairs", "冯嘉"),
]
# Unit heads (第一责任人) for the same units, so every demo result can be signed off (issue 11).
EXTRA_UNIT_HEADS = [
    ("unit_head_natural_resources", "natural_resources", "周建", "局长"),
    ("unit_head_market", "market", "吴敏", "局长"),
    ("unit_head_police", "police", "赵刚", "副局长"),
    ("unit_head_agriculture", "agriculture", "秦川", "局长"),
    ("unit_head_culture_tourism", "culture_tourism", "韩雪", "局长"),
    ("unit_head_finance", "finance", "钟华", "主任"),
    ("unit_head_civil_affairs", "civil_affairs", "魏东", "局长"),
]


def _ensure_reference_data() -> dict:
    lead_sources_ensure()
    units = {u.code: u for u in Unit.objects.all()}
    sectors = {s.code: s for s in Sector.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    rules = 0
    for name, sector, region, keywords, unit_codes, priority, days in ROUTING_RULES:
        if RoutingRule.objects.filter(name=name).exists() or sector not in sectors:
            continue
        rule = RoutingRule.objects.create(
            name=name,
            sector=sectors[sector],
            region=regions.get(region) if region else None,
            keywords=keywords,
            priority=priority,
            deadline_days=days,
        )
        rule.units.set([units[c] for c in unit_codes if c in units])
        rules += 1
    extra = [(u, Role.LIAISON, c, d, "") for u, c, d in EXTRA_LIAISONS]
    extra += [(u, Role.UNIT_HEAD, c, d, t) for u, c, d, t in EXTRA_UNIT_HEADS]
    for i, (username, role, unit_code, display, title) in enumerate(extra):
        if unit_code in units and not User.objects.filter(username=username).exists():
            user = User.objects.create(
                username=username,
                role=role,
                unit=units[unit_code],
                display_name=display,
                title=title,
                email=f"{username}@saohei.local",
                phone=f"1390392{1000 + i:04d}",
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    return {"rules": rules}


# --- demo histories ------------------------------------------------------------------------------
# Each spec: reference (idempotency key, shown as 来文编号), sector, region, priority, source, summary,
# accused, registered N days ago by whom, the units, and a script of (day offset, actor, action, fields).
def _specs() -> list[dict]:
    lh, lt, ln, lm = "liaison_housing", "liaison_transport", "liaison_natural_resources", "liaison_market"
    return [
        {
            "ref": "焦公受〔2026〕0311号",
            "sector": "construction",
            "region": "jiefang",
            "source": "police_110",
            "by": "police",
            "ago": 1,
            "summary": "解放区某小区改造工地，有人自称“土方老大”，带十余人阻拦其他车队进场，强收每车200元“进场费”。",
            "accused": "绰号“黑三”的男子及其手下",
            "units": [],
            "script": [],
        },
        {
            "ref": "焦扫黑办转〔2026〕031号",
            "sector": "transport",
            "region": "zhongzhan",
            "source": "city_office",
            "ago": 6,
            "summary": "中站区货运站周边有车辆长期霸占装卸点，外地货车须交“停车费”才能装卸。",
            "accused": "某物流信息部负责人王某",
            "units": ["transport"],
            "script": [
                (
                    1,
                    lt,
                    "send_back",
                    {
                        "note": "经了解，涉事场地为私人院落，强收费用、威胁司机属治安问题，建议由公安机关核查。"
                    },
                )
            ],
        },
        {
            "ref": "12337-2026-04-0217",
            "sector": "transport",
            "region": "macun",
            "source": "platform_12337",
            "ago": 2,
            "summary": "马村区至市区的城乡客运线路被一伙人控制，其他客车进站即遭围堵、砸车。",
            "accused": "李某某客运车队",
            "units": ["transport"],
            "script": [],
        },
        {
            "ref": "焦扫黑办转〔2026〕007号",
            "sector": "fishing",
            "region": "wuzhi",
            "source": "provincial_office",
            "ago": 48,
            "priority": Priority.HIGH,
            "summary": "武陟县黄河滩区有人使用电网捕鱼，并以暴力驱赶其他渔民，垄断滩区鱼塘承包。",
            "accused": "滩区某村村民张某兄弟",
            "units": ["agriculture"],
            "script": [],
        },
        {
            "ref": "焦扫黑办转〔2026〕033号",
            "sector": "construction",
            "region": "xiuwu",
            "source": "public_report",
            "ago": 1,
            "summary": "修武县某工业园区项目，当地人员强揽砂石供应，占用基本农田堆放土方。",
            "accused": "修武县某建材经营部",
            "units": ["housing", "natural_resources"],
            "script": [],
        },
        {
            "ref": "焦扫黑办转〔2026〕019号",
            "sector": "stations_docks",
            "region": "shanyang",
            "source": "media",
            "ago": 27,
            "summary": "媒体曝光：山阳区长途汽车站周边“黑车”团伙拉客宰客，对不从者尾随恐吓。",
            "accused": "车站周边“黑车”团伙",
            "units": ["transport"],
            "script": [(1, lt, "accept", {})],
        },
        {
            "ref": "焦扫黑办转〔2026〕012号",
            "no_first_report": True,
            "sector": "building",
            "region": "jiefang",
            "source": "city_office",
            "ago": 55,
            "summary": "解放区某商住楼项目农民工工资被层层截留，讨薪工人遭多名社会人员殴打。",
            "accused": "某劳务公司实际控制人赵某",
            "units": ["housing"],
            "script": [(2, lh, "accept", {})],
        },
        {
            "ref": "中督转〔2026〕HN-0215号",
            "sector": "construction",
            "region": "shifanqu",
            "source": "central_inspection",
            "ago": 20,
            "priority": Priority.URGENT,
            "summary": "中央督导组转办：示范区某道路工程被当地“路霸”强行分包，车辆运输须经其指定车队。",
            "accused": "示范区某运输车队及其负责人",
            "units": ["housing", "transport"],
            "script": [
                (1, lh, "accept", {}),
                (1, lt, "accept", {}),
                (
                    8,
                    lh,
                    "submit_result",
                    {
                        "result": Result.PARTLY,
                        "findings": "经调取分包合同、约谈施工方，分包程序存在违规，已责令整改；强迫交易问题需公安机关进一步调查。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕026号",
            "sector": "transport",
            "region": "qinyang",
            "source": "unit_investigation",
            "ago": 12,
            "summary": "沁阳市某驾校招生被一伙人垄断，其他驾校学员练车遭阻挠。",
            "accused": "沁阳市某驾校股东刘某",
            "units": ["transport"],
            "script": [
                (1, lt, "accept", {}),
                (
                    8,
                    lt,
                    "request_extension",
                    {"days": 10, "note": "涉及学员多，需逐一走访取证，申请延期10个工作日。"},
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕021号",
            "sector": "building",
            "region": "boai",
            "source": "petition",
            "ago": 35,
            "summary": "博爱县某安置房项目门窗、电梯工程被强揽，业主反映质量问题遭威胁。",
            "accused": "博爱县某装饰公司",
            "units": ["housing", "market"],
            "script": [
                (1, lh, "accept", {}),
                (2, lm, "accept", {}),
                (
                    10,
                    lm,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "经查该公司营业执照、资质齐全，未发现强迫交易行为。",
                    },
                ),
                (
                    12,
                    lh,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "经与建设单位核实，工程分包手续齐全，未发现问题。",
                    },
                ),
                (
                    14,
                    "office",
                    "return_for_reverification",
                    {
                        "unit": "housing",
                        "note": "核查仅凭书面材料，未走访业主、未调取现场监控，请补充核查业主被威胁一节。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕015号",
            "sector": "construction",
            "region": "mengzhou",
            "source": "public_report",
            "ago": 30,
            "summary": "孟州市某产业园土方工程，有人纠集人员阻工，逼迫施工方使用其土方车队。",
            "accused": "孟州市某土方车队负责人",
            "units": ["housing", "natural_resources"],
            "script": [
                (1, lh, "accept", {}),
                (1, ln, "accept", {}),
                (
                    12,
                    lh,
                    "submit_result",
                    {
                        "result": Result.SUBSTANTIATED,
                        "findings": "经查，该车队多次阻工，强迫施工方签订运输合同，证据已移交公安机关。",
                    },
                ),
                (
                    14,
                    ln,
                    "submit_result",
                    {
                        "result": Result.PARTLY,
                        "findings": "产业园内存在违规取土，已立案查处；未发现占用耕地。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕024号",
            "sector": "transport",
            "region": "wenxian",
            "source": "city_office",
            "ago": 18,
            "summary": "温县某砂石料场运输车辆超载并强行占道，对劝阻路政人员进行围攻。",
            "accused": "温县某砂石料场运输车队",
            "units": ["transport"],
            "script": [
                (1, lt, "accept", {}),
                (
                    9,
                    lt,
                    "submit_result",
                    {
                        "result": Result.SUBSTANTIATED,
                        "findings": "调取路政执法记录仪视频，围攻路政人员属实，涉案人员已移交公安机关。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2025〕188号",
            "sector": "transport",
            "region": "jiefang",
            "source": "public_report",
            "ago": 120,
            "summary": "解放区出租车“份子钱”被一伙人把持，拒交者车辆被砸。",
            "accused": "某出租车公司实际控制人",
            "units": ["transport", "housing"],
            "script": [
                (1, lt, "accept", {}),
                (2, lh, "accept", {}),
                (
                    15,
                    lh,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "经查涉事停车场建设手续合法，与所反映问题无关。",
                    },
                ),
                (
                    20,
                    lt,
                    "submit_result",
                    {
                        "result": Result.SUBSTANTIATED,
                        "findings": "经查，该公司实际控制人纠集多人强收费用、砸车，已移送公安机关立案侦查。",
                    },
                ),
                (
                    22,
                    "office",
                    "close",
                    {
                        "disposition": Disposition.CRIMINAL_CASE,
                        "public_conclusion": "经核查，您反映的问题属实，公安机关已依法立案侦查。感谢您的支持。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2025〕201号",
            "sector": "markets",
            "region": "shanyang",
            "source": "public_report",
            "ago": 95,
            "summary": "山阳区某农贸市场摊位费被一伙人私自加收“管理费”，不交者被驱赶。",
            "accused": "市场经营户孙某等人",
            "units": ["market"],
            "script": [
                (1, lm, "accept", {}),
                (
                    18,
                    lm,
                    "submit_result",
                    {
                        "result": Result.PARTLY,
                        "findings": "私自加收费用属实，已责令退还并处罚款；未发现暴力驱赶。",
                    },
                ),
                (
                    20,
                    "office",
                    "close",
                    {
                        "disposition": Disposition.ADMINISTRATIVE_PENALTY,
                        "public_conclusion": "经核查，您反映的部分问题属实，市场监管部门已依法作出行政处罚。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2025〕176号",
            "sector": "land_demolition",
            "region": "xiuwu",
            "source": "provincial_office",
            "ago": 150,
            "priority": Priority.HIGH,
            "summary": "修武县某村征地补偿款被村干部伙同社会人员截留，村民上访遭殴打，疑有公职人员充当“保护伞”。",
            "accused": "某村原村委会主任及其亲属",
            "units": ["natural_resources", "housing"],
            "script": [
                (1, ln, "accept", {}),
                (1, lh, "accept", {}),
                (
                    20,
                    ln,
                    "submit_result",
                    {
                        "result": Result.SUBSTANTIATED,
                        "findings": "征地补偿款截留属实，涉及金额较大，相关公职人员涉嫌失职渎职。",
                    },
                ),
                (
                    22,
                    lh,
                    "submit_result",
                    {"result": Result.PARTLY, "findings": "安置房分配存在优亲厚友问题。"},
                ),
                (
                    25,
                    "office",
                    "close",
                    {
                        "disposition": Disposition.DISCIPLINE_REFERRAL,
                        "note": "涉嫌公职人员充当“保护伞”，移送市纪委监委。",
                        "public_conclusion": "经核查，您反映的问题属实，已移送有关机关依纪依法处理。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2025〕164号",
            "sector": "transport",
            "region": "boai",
            "source": "public_report",
            "ago": 140,
            "summary": "博爱县某路段有人设卡向过往货车收取“过路费”。",
            "accused": "不详",
            "units": ["transport"],
            "script": [
                (1, lt, "accept", {}),
                (
                    15,
                    lt,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "连续蹲守7天并走访周边商户、司机，未发现设卡收费情况。",
                    },
                ),
                (
                    17,
                    "office",
                    "close",
                    {
                        "disposition": Disposition.NO_ACTION,
                        "public_conclusion": "经核查，未发现您反映的问题。如有新的情况，欢迎继续反映。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2025〕170号",
            "sector": "wholesale",
            "region": "zhongzhan",
            "source": "petition",
            "ago": 110,
            "summary": "中站区某蔬菜批发市场有人强行包揽装卸业务。",
            "accused": "装卸队负责人",
            "units": ["market"],
            "script": [
                (1, lm, "accept", {}),
                (
                    16,
                    lm,
                    "submit_result",
                    {
                        "result": Result.CANNOT_VERIFY,
                        "findings": "反映人未留联系方式，涉事装卸队已解散，无法核实。",
                    },
                ),
                (18, "office", "close", {"disposition": Disposition.NO_ACTION}),
            ],
        },
        {
            "ref": "焦扫黑办密〔2026〕002号",
            "sector": "construction",
            "region": "shanyang",
            "source": "central_inspection",
            "ago": 16,
            "restricted": True,
            "by": "office_leader",
            "priority": Priority.URGENT,
            "summary": "反映某部门工作人员为工程领域涉恶团伙通风报信（限制知悉范围）。",
            "accused": "（限制知悉）",
            "units": ["housing"],
            "script": [(1, lh, "accept", {})],
        },
        # --- issue 11: the practice of handling (sign-off, send-back arbitration, report-backs, review) ---
        {
            "ref": "焦扫黑办转〔2026〕036号",
            "sector": "transport",
            "region": "jiefang",
            "source": "unit_investigation",
            "ago": 23,
            "summary": "解放区某停车场被一伙人强占经营，向周边商户车辆收取高额停车费。",
            "accused": "停车场实际经营人郑某",
            "units": ["transport"],
            "script": [(1, lt, "accept", {})],
        },
        {
            "ref": "焦扫黑办转〔2026〕037号",
            "sector": "building",
            "region": "shanyang",
            "source": "city_office",
            "ago": 14,
            "summary": "山阳区某小区加装电梯工程被人强行揽下，业主被迫接受高价。",
            "accused": "某电梯安装队负责人",
            "units": ["housing"],
            "script": [
                (1, lh, "accept", {}),
                (
                    9,
                    lh,
                    "request_sign_off",
                    {
                        "result": Result.PARTLY,
                        "findings": "经走访业主12户、调取合同，存在强行揽活、抬高价格问题，已约谈施工方；未发现暴力威胁。",
                    },
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕038号",
            "sector": "mining",
            "region": "mengzhou",
            "source": "public_report",
            "ago": 9,
            "summary": "孟州市黄河沿岸夜间有人非法采砂，运砂车辆强行通过村道。",
            "accused": "不明采砂船队",
            "units": ["natural_resources"],
            "script": [
                (1, ln, "send_back", {"note": "河道采砂属水利部门职责，建议转水利部门办理。"}),
                (
                    2,
                    "office",
                    "refuse_send_back",
                    {"note": "涉及非法采矿，属自然资源部门职责范围，请继续核查，期限不变。"},
                ),
                (3, ln, "accept", {}),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕039号",
            "sector": "markets",
            "region": "wenxian",
            "source": "petition",
            "ago": 8,
            "summary": "温县某集市有人以“治安费”名义向摊贩收钱，不交者被砸摊。",
            "accused": "集市周边社会人员",
            "units": ["market"],
            "script": [
                (1, lm, "send_back", {"note": "砸摊、强收费用涉嫌违法犯罪，属公安机关管辖。"}),
                (2, "office", "accept_send_back", {"units": ["police"]}),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕040号",
            "sector": "construction",
            "region": "qinyang",
            "source": "provincial_office",
            "ago": 15,
            "summary": "沁阳市某道路工程有人强行供应沥青混凝土，施工方被迫高价采购。",
            "accused": "沁阳市某建材公司",
            "units": ["housing"],
            "script": [
                (1, lh, "accept", {}),
                (
                    6,
                    "office",
                    "request_stage_report",
                    {"unit": "housing", "note": "请报告调取采购合同和走访施工方的进展。"},
                ),
                (
                    8,
                    lh,
                    "report_stage",
                    {"note": "已调取采购合同3份，走访施工方负责人2人，正在比对市场价格。"},
                ),
            ],
        },
        {
            "ref": "焦扫黑办转〔2026〕041号",
            "sector": "lending",
            "region": "jiefang",
            "source": "public_report",
            "ago": 70,
            "summary": "群众反映有人以“快速放款”为名发放高利贷，联系电话13803910147，逾期后上门滋扰。",
            "accused": "放贷人“刘哥”",
            "units": ["transport"],
            "named_tip": {"name": "陈立华", "phone": "13903917788", "sms_consent": True},
            "script": [
                (1, lt, "accept", {}),
                (
                    15,
                    lt,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "拨打所留电话无人接听，走访周边商户未发现放贷、滋扰情况。",
                    },
                ),
                (
                    17,
                    "office",
                    "close",
                    {
                        "disposition": Disposition.NO_ACTION,
                        "public_conclusion": "经核查，暂未发现您反映的问题。如有新的情况，欢迎继续反映。",
                    },
                ),
            ],
            # A new tip, later, with the same phone number: the lead goes up for review (评查).
            "repeat_tip": {
                "ago": 6,
                "description": "又有人打着“快速放款”旗号放高利贷，电话还是13803910147，借款人被堵门。",
            },
        },
        {
            "ref": "焦扫黑办转〔2025〕209号",
            "sector": "wholesale",
            "region": "macun",
            "source": "public_report",
            "ago": 100,
            "summary": "马村区焦作市惠民果蔬批发有限公司被指强行垄断冷库租赁。",
            "accused": "焦作市惠民果蔬批发有限公司",
            "units": ["market"],
            "script": [
                (1, lm, "accept", {}),
                (
                    12,
                    lm,
                    "submit_result",
                    {
                        "result": Result.UNSUBSTANTIATED,
                        "findings": "调取冷库租赁合同，租赁价格与市场持平，未发现强迫交易。",
                    },
                ),
                (14, "office", "close", {"disposition": Disposition.NO_ACTION}),
            ],
            "repeat_tip": {
                "ago": 30,
                "description": "焦作市惠民果蔬批发有限公司仍在垄断冷库，价格比别处高。",
                "review": (
                    "review_confirm",
                    "经评查，新举报内容与原线索相同，原核查已调取合同比对价格，结论成立。",
                ),
            },
        },
        {
            "ref": "焦扫黑办转〔2026〕028号",
            "sector": "stations_docks",
            "region": "wuzhi",
            "source": "public_report",
            "ago": 40,
            "summary": "武陟县某码头砂石装卸被一伙人垄断，外来船只须交“保护费”。",
            "accused": "码头装卸队",
            "units": ["transport", "police"],
            "script": [(2, lt, "accept", {})],
        },
    ]


def _play(
    spec: dict, users: dict, sectors: dict, regions: dict, sources: dict, base: dt.datetime, tip: Tip | None
):
    start = base - dt.timedelta(days=spec["ago"], hours=3)
    fields = {
        "sector": sectors[spec["sector"]],
        "region": regions[spec["region"]],
        "summary": spec["summary"],
        "accused": spec.get("accused", ""),
        "priority": spec.get("priority", Priority.NORMAL),
        "source": sources.get(spec.get("source", "")),
        "origin_reference": spec["ref"],
        "restricted": spec.get("restricted", False),
        "units": spec["units"],
        "now": start,
    }
    actor = users[spec.get("by", "office")]
    if spec.get("named_tip"):
        tip = _named_tip(spec, fields, received_at=start - dt.timedelta(hours=20))
    if tip is not None and actor.role == Role.OFFICE:
        lead = tip_triage(tip_id=tip.pk, action="register", actor=actor, **fields).lead
    else:
        lead = lead_register(actor=actor, **fields)
    script = list(spec["script"])
    if not spec.get("no_first_report"):
        # Units report back first (首次回告) two days after signing for, as the practice asks.
        for offset, who, action, _extra in spec["script"]:
            if action == "accept" and start + dt.timedelta(days=offset + 2) < base:
                script.append((offset + 2, who, "report_first", {"note": FIRST_REPORT_TEXT}))
        script.sort(key=lambda step: (step[0], step[2] != "accept"))
    for offset, who, action, extra in script:
        extra = dict(extra)
        note = extra.pop("note", "")
        at = start + dt.timedelta(days=offset, hours=2)
        lead_transition_practised(
            lead=lead, action=action, actor=users[who], note=note, now=at, users=users, **extra
        )
    return lead


FIRST_REPORT_TEXT = "已签收并成立核查组，明确专人负责；已调取相关材料，近期将走访当事人和知情群众。"


def _named_tip(spec: dict, fields: dict, *, received_at: dt.datetime) -> Tip:
    """A named tip behind a demo lead, whose informant agreed to SMS (短信告知)."""
    from reports.services import tip_submit

    person = spec["named_tip"]
    tip, _pin = tip_submit(
        description=fields["summary"],
        sector=fields["sector"],
        region=fields["region"],
        accused=fields["accused"],
        anonymous=False,
        identity={"name": person["name"], "phone": person["phone"]},
        received_at=received_at,
    )
    if person.get("sms_consent"):
        # reports has no service for the consent flag yet; the public form is where it will be set.
        Tip.objects.filter(pk=tip.pk).update(sms_consent=True)
        tip.sms_consent = True
    return tip


def _repeat_tip(spec: dict, lead: Lead, users: dict, base: dt.datetime) -> None:
    """The later tip that names what a 查否 lead named, and, where the spec says, the review decision."""
    from reports.services import tip_submit

    from .practice import repeat_check_tip

    repeat = spec["repeat_tip"]
    received = base - dt.timedelta(days=repeat["ago"])
    tip, _pin = tip_submit(
        description=repeat["description"],
        sector=lead.sector,
        region=lead.region,
        received_at=received,
    )
    repeat_check_tip(tip_id=tip.pk, now=received + dt.timedelta(minutes=5))
    if repeat.get("review"):
        action, note = repeat["review"]
        lead_transition(
            lead_id=lead.pk,
            action=action,
            actor=users["office"],
            note=note,
            now=received + dt.timedelta(days=2),
        )


def _unit_head(unit_id) -> User | None:
    return User.objects.filter(role=Role.UNIT_HEAD, unit_id=unit_id, is_active=True).order_by("pk").first()


def lead_transition_practised(*, lead, action: str, actor, note: str = "", now, users: dict, **fields):
    """One scripted step, with what issue 11's practice puts before it: a result goes to the unit head
    for sign-off first (then is submitted as signed), and a 查否 closure gets the office leader's
    sign-off first. Every step goes through the workflow."""
    if action == "submit_result":
        lead_transition(
            lead_id=lead.pk,
            action="request_sign_off",
            actor=actor,
            now=now - dt.timedelta(hours=1),
            result=fields.pop("result"),
            findings=fields.pop("findings"),
        )
        head = _unit_head(actor.unit_id)
        if head is not None:
            lead_transition(
                lead_id=lead.pk, action="sign_off", actor=head, now=now - dt.timedelta(minutes=30)
            )
    if action == "close":
        from .services import derive_result

        result = fields.get("result") or derive_result(
            lead.assignments.filter(status=AssignmentStatus.SUBMITTED)
        )
        if result == Result.UNSUBSTANTIATED and "office_leader" in users:
            lead_transition(
                lead_id=lead.pk,
                action="sign_off_closure",
                actor=users["office_leader"],
                note="同意查否办结。",
                now=now - dt.timedelta(hours=1),
            )
    return lead_transition(lead_id=lead.pk, action=action, actor=actor, note=note, now=now, **fields)


def _lead_for_registered_tip(
    tip: Tip, users: dict, sources: dict, base: dt.datetime, index: int
) -> Lead | None:
    """A lead behind each tip that the reports demo registered, in the state its public status tells."""
    if tip.sector is None or tip.region is None:
        return None
    unit = tip.sector.lead_unit
    liaison = User.objects.filter(role=Role.LIAISON, unit=unit, is_active=True).order_by("pk").first()
    start = max(tip.received_at + dt.timedelta(days=1), base - dt.timedelta(days=400))
    lead = lead_register(
        actor=users["office"],
        sector=tip.sector,
        region=tip.region,
        summary=tip.description,
        accused=tip.accused,
        source=sources.get("public_report"),
        units=[unit],
        now=start,
    )
    if tip.public_status in (PublicStatus.VERIFYING, PublicStatus.CONCLUDED) and liaison is not None:
        lead_transition(lead_id=lead.pk, action="accept", actor=liaison, now=start + dt.timedelta(days=1))
    if tip.public_status == PublicStatus.CONCLUDED and liaison is not None:
        result = [Result.SUBSTANTIATED, Result.PARTLY, Result.UNSUBSTANTIATED][index % 3]
        disposition = {
            Result.SUBSTANTIATED: Disposition.CRIMINAL_CASE,
            Result.PARTLY: Disposition.ADMINISTRATIVE_PENALTY,
            Result.UNSUBSTANTIATED: Disposition.NO_ACTION,
        }[result]
        lead_transition_practised(
            lead=lead,
            action="submit_result",
            actor=liaison,
            users=users,
            result=result,
            findings="经走访当事人、调取相关材料核查，情况已查清（演示数据）。",
            now=start + dt.timedelta(days=15),
        )
        lead_transition_practised(
            lead=lead,
            action="close",
            actor=users["office"],
            users=users,
            disposition=disposition,
            public_conclusion=tip.public_conclusion,
            now=start + dt.timedelta(days=18),
        )
    # Linked last, so the tip keeps the public history the reports demo gave it.
    LeadTip.objects.create(
        lead=lead, tip=tip, kind=LeadTip.Kind.REGISTERED, added_at=start, added_by=users["office"]
    )
    return lead


def seed_leads(stdout=None) -> dict:
    """Leads in every status across several units: transport-only, shared by housing and another unit,
    closed with each disposition, overdue, with an extension pending, sent back, returned, restricted."""
    counts = _ensure_reference_data()
    users = {u.username: u for u in User.objects.all()}
    if "office" not in users:
        return counts
    sectors = {s.code: s for s in Sector.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    sources = {s.code: s for s in LeadSource.objects.all()}
    base = timezone.now()
    created = 0
    # A few new tips become leads through triage, as the office would do; most stay in the triage queue.
    new_tips = {
        t.sector.code: t
        for t in Tip.objects.filter(status=TipStatus.NEW, sector__isnull=False, lead_link__isnull=True)
        .select_related("sector")
        .order_by("received_at")[:30]
    }
    used_tips = 0
    for spec in _specs():
        if Lead.objects.filter(origin_reference=spec["ref"]).exists():
            continue
        tip = None
        if used_tips < 3 and spec["ago"] >= 10 and spec["sector"] in new_tips and not spec.get("restricted"):
            tip = new_tips.pop(spec["sector"])
            used_tips += 1
        if spec.get("named_tip"):
            tip = None
        with transaction.atomic():
            lead = _play(spec, users, sectors, regions, sources, base, tip)
            if spec.get("repeat_tip"):
                _repeat_tip(spec, lead, users, base)
        created += 1
    linked = 0
    registered = (
        Tip.objects.filter(status=TipStatus.REGISTERED, lead_link__isnull=True)
        .select_related("sector__lead_unit", "region")
        .order_by("received_at")
    )
    for i, tip in enumerate(registered):
        with transaction.atomic():
            if _lead_for_registered_tip(tip, users, sources, base, i):
                linked += 1
    counts.update(leads_created=created, leads_for_registered_tips=linked)
    counts.update(_seed_practice(users, base))
    return counts


def _seed_practice(users: dict, base: dt.datetime) -> dict:
    """Call-backs for the last three months (some answered, one unsatisfied → review), and one practice
    sweep so overdue sign-fors and missing report-backs carry their reminders. Idempotent."""
    from .models import CallBack
    from .practice import callback_draw, callback_record, month_start
    from .practice_sweep import practice_sweep

    drawn = 0
    month = month_start(timezone.localdate(base))
    outcomes = [
        (CallBack.Status.DONE, CallBack.Outcome.UNSATISFIED, "举报人称问题仍然存在，对核查结论不认可。"),
        (CallBack.Status.DONE, CallBack.Outcome.SATISFIED, "举报人对办理结果表示满意。"),
        (CallBack.Status.DONE, CallBack.Outcome.BASICALLY, "举报人认为处理及时，但希望加强后续巡查。"),
        (CallBack.Status.UNREACHABLE, "", "连续三天拨打电话均无人接听。"),
    ]
    months = []
    for _n in range(3):
        month = month_start(month - dt.timedelta(days=1))
        drawn += callback_draw(month=month, now=base, rng=random.Random(f"callbacks-{month:%Y%m}"))
        months.append(month)
    if not CallBack.objects.filter(month__in=months).exclude(status=CallBack.Status.PENDING).exists():
        # Answer all but the newest month's last few, cycling through the outcomes (one unsatisfied).
        pending = list(
            CallBack.objects.filter(month__in=months, status=CallBack.Status.PENDING).order_by("month", "pk")
        )
        for callback, (status, outcome, notes) in zip(pending[:-1], outcomes, strict=False):
            callback_record(
                callback_id=callback.pk,
                actor=users["office"],
                status=status,
                outcome=outcome,
                notes=notes,
                now=base,
            )
    swept = practice_sweep(now=base)
    return {"callbacks_drawn": drawn, "practice_sweep": {k: v for k, v in swept.items() if k != "ms"}}


# --- load generator ------------------------------------------------------------------------------
BATCH = 20_000


def _reserve_ids(table: str, count: int) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        seq = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", [seq])
        first = cur.fetchone()[0]
        cur.execute("SELECT setval(%s, %s)", [seq, first + count - 1])
    return first


def _end_of_day(moment: dt.datetime, tz) -> dt.datetime:
    return moment.astimezone(tz).replace(hour=23, minute=59, second=59, microsecond=0)


def load_leads(*, tips: int, stdout=None, seed: int = 2026) -> dict:
    """Leads and assignments in proportion to tips (200k leads and 300k assignments per 1M tips), with COPY.

    Leads are built from registered tips the reports loader made (one tip each), in the state the tip's
    public status implies; if there are too few, the rest are registered directly (unified acceptance).
    """
    lead_count = tips // 5
    assignment_target = tips * 3 // 10
    if lead_count <= 0:
        return {"leads": 0, "assignments": 0}
    _ensure_reference_data()
    rng = random.Random(seed + 30)
    started = time.monotonic()
    units = list(
        Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE).values_list("pk", flat=True)
    )
    sectors = {s.pk: s.lead_unit_id for s in Sector.objects.all()}
    sector_ids = list(sectors)
    region_ids = list(Region.objects.filter(level=Region.Level.COUNTY).values_list("pk", flat=True))
    sources = list(LeadSource.objects.values_list("pk", flat=True))
    public_source = LeadSource.objects.get(code="public_report").pk
    office = User.objects.filter(role=Role.OFFICE).order_by("pk").values_list("pk", flat=True).first()
    liaisons = dict(User.objects.filter(role=Role.LIAISON).order_by("-pk").values_list("unit_id", "pk"))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t.id, t.received_at, t.public_status, t.sector_id, t.region_id "
            "FROM reports_tip t WHERE t.status = 'registered' AND t.sector_id IS NOT NULL "
            "AND t.region_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads_leadtip lt WHERE lt.tip_id = t.id) "
            "ORDER BY t.id DESC LIMIT %s",
            [lead_count],
        )
        tip_rows = cur.fetchall()
    now = timezone.now()
    plans = []
    for tip_id, received_at, public, sector_id, region_id in tip_rows:
        plans.append(
            (tip_id, received_at + dt.timedelta(hours=rng.randint(2, 48)), public, sector_id, region_id)
        )
    while len(plans) < lead_count:
        created_at = now - dt.timedelta(days=rng.random() * 3 * 365)
        age = (now - created_at).days
        public = "accepted" if age < 20 else ("verifying" if age < 75 else "concluded")
        plans.append((None, created_at, public, rng.choice(sector_ids), rng.choice(region_ids)))
    rng.shuffle(plans)
    # Numbers per year, reserved in one step each (the same counter live registration uses).
    from .services import lead_numbers_reserve

    tz = timezone.get_current_timezone()
    by_year: dict[int, int] = {}
    for plan in plans:
        year = plan[1].astimezone(tz).year
        by_year[year] = by_year.get(year, 0) + 1
    numbers = {year: iter(lead_numbers_reserve(year=year, count=n)) for year, n in sorted(by_year.items())}
    extra_needed = max(0, assignment_target - lead_count)
    lead_cols = [
        "id", "number", "year", "status", "source_id", "origin_reference", "summary", "accused", "sector_id",
        "region_id", "priority", "restricted", "deadline", "result", "disposition", "closing_note",
        "public_conclusion", "discipline_referred", "discipline_referred_at", "created_by_id", "created_at",
        "verified_at", "closed_at", "closed_by_id", "version",
    ]  # fmt: skip
    assignment_cols = [
        "lead_id", "unit_id", "status", "is_primary", "assigned_at", "assigned_by_id", "routing_reason",
        "deadline", "accepted_at", "accepted_by_id", "result", "findings", "submitted_at", "submitted_by_id",
        "sent_back_at", "sent_back_reason", "closed_at", "returned_count", "extension_count",
        "escalation_level", "escalated_at",
    ]  # fmt: skip
    event_cols = ["lead_id", "at", "actor_id", "action", "from_status", "to_status", "note", "data"]
    results = [Result.SUBSTANTIATED, Result.PARTLY, Result.UNSUBSTANTIATED, Result.CANNOT_VERIFY]
    result_weights = [0.25, 0.2, 0.45, 0.1]
    disposition_for = {
        Result.SUBSTANTIATED: [
            Disposition.CRIMINAL_CASE,
            Disposition.ADMINISTRATIVE_PENALTY,
            Disposition.DISCIPLINE_REFERRAL,
        ],
        Result.PARTLY: [Disposition.ADMINISTRATIVE_PENALTY, Disposition.NO_ACTION],
        Result.UNSUBSTANTIATED: [Disposition.NO_ACTION],
        Result.CANNOT_VERIFY: [Disposition.NO_ACTION],
    }
    made_leads = made_assignments = made_events = 0
    remaining_extra = extra_needed
    for offset in range(0, len(plans), BATCH):
        batch = plans[offset : offset + BATCH]
        with transaction.atomic():
            first_id = _reserve_ids("leads_lead", len(batch))
            lead_rows, assignment_rows, link_rows, event_rows = [], [], [], []
            for k, (tip_id, created_at, public, sector_id, region_id) in enumerate(batch):
                lead_id = first_id + k
                year = created_at.astimezone(tz).year
                # How many units: the extra assignments are spread evenly over the remaining leads.
                left = len(plans) - (offset + k)
                n_units = 1 + (1 if remaining_extra and rng.random() < remaining_extra / max(left, 1) else 0)
                remaining_extra -= n_units - 1
                first_unit = sectors[sector_id]
                unit_ids = [first_unit] + [u for u in rng.sample(units, 3) if u != first_unit][: n_units - 1]
                assigned_at = created_at + dt.timedelta(hours=rng.randint(1, 30))
                deadline = _end_of_day(assigned_at + dt.timedelta(days=28), tz)
                if public == "concluded":
                    lead_status = LeadStatus.CLOSED if rng.random() < 0.97 else LeadStatus.VERIFIED
                elif public == "verifying":
                    lead_status = LeadStatus.VERIFYING if rng.random() < 0.8 else LeadStatus.VERIFIED
                else:
                    lead_status = LeadStatus.ASSIGNED if rng.random() < 0.6 else LeadStatus.VERIFYING
                lead_result = disposition = ""
                verified_at = closed_at = None
                open_deadlines = []
                unit_results = []
                for j, unit_id in enumerate(unit_ids):
                    status = {
                        LeadStatus.ASSIGNED: AssignmentStatus.ASSIGNED,
                        LeadStatus.VERIFYING: AssignmentStatus.ACCEPTED
                        if j == 0 or rng.random() < 0.5
                        else AssignmentStatus.ASSIGNED,
                        LeadStatus.VERIFIED: AssignmentStatus.SUBMITTED,
                        LeadStatus.CLOSED: AssignmentStatus.SUBMITTED,
                    }[lead_status]
                    accepted_at = (
                        assigned_at + dt.timedelta(hours=rng.randint(2, 72))
                        if status != AssignmentStatus.ASSIGNED
                        else None
                    )
                    submitted_at = result = findings = None
                    if status == AssignmentStatus.SUBMITTED:
                        submitted_at = accepted_at + dt.timedelta(days=rng.randint(5, 40))
                        result = rng.choices(results, result_weights)[0]
                        findings = "经核查，情况已查清。"
                        unit_results.append(result)
                        verified_at = max(verified_at or submitted_at, submitted_at)
                    else:
                        open_deadlines.append(deadline)
                    actor = liaisons.get(unit_id)
                    assignment_rows.append([
                        lead_id, unit_id, status, j == 0, assigned_at, office, "", deadline, accepted_at,
                        actor if accepted_at else None, result or "", findings or "", submitted_at,
                        actor if submitted_at else None, None, "", None, 0, 0,
                        2 if status != AssignmentStatus.SUBMITTED and deadline < now else 0, None,
                    ])  # fmt: skip
                if unit_results:
                    lead_result = min(unit_results, key=results.index)
                if lead_status == LeadStatus.CLOSED:
                    disposition = rng.choice(disposition_for[lead_result])
                    closed_at = verified_at + dt.timedelta(days=rng.randint(1, 10))
                referred = disposition == Disposition.DISCIPLINE_REFERRAL
                lead_rows.append([
                    lead_id, next(numbers[year]), year, lead_status,
                    public_source if tip_id else rng.choice(sources), "", _LOAD_SUMMARY, "",
                    sector_id, region_id, Priority.NORMAL if rng.random() < 0.85 else Priority.HIGH, False,
                    min(open_deadlines) if open_deadlines else None,
                    lead_result if lead_status == LeadStatus.CLOSED else "", disposition, "",
                    "经核查，已依法处理。" if closed_at else "", referred, closed_at if referred else None, office,
                    created_at, verified_at if lead_status in (LeadStatus.VERIFIED, LeadStatus.CLOSED) else None,
                    closed_at, office if closed_at else None, 3 if closed_at else 2,
                ])  # fmt: skip
                if tip_id:
                    link_rows.append([lead_id, tip_id, LeadTip.Kind.REGISTERED, created_at, office])
                event_rows.append(
                    [lead_id, created_at, office, "register", "", LeadStatus.REGISTERED, "", "{}"]
                )
                event_rows.append(
                    [
                        lead_id,
                        assigned_at,
                        office,
                        "assign",
                        LeadStatus.REGISTERED,
                        LeadStatus.ASSIGNED,
                        "",
                        json.dumps({"units": len(unit_ids)}),
                    ]
                )
                if closed_at:
                    event_rows.append(
                        [
                            lead_id,
                            closed_at,
                            office,
                            "close",
                            LeadStatus.VERIFIED,
                            LeadStatus.CLOSED,
                            "",
                            json.dumps({"disposition": disposition}),
                        ]
                    )
            with connection.cursor() as cur:
                with cur.cursor.copy(f"COPY leads_lead ({', '.join(lead_cols)}) FROM STDIN") as copy:
                    for row in lead_rows:
                        copy.write_row(row)
                with cur.cursor.copy(
                    f"COPY leads_assignment ({', '.join(assignment_cols)}) FROM STDIN"
                ) as copy:
                    for row in assignment_rows:
                        copy.write_row(row)
                with cur.cursor.copy(
                    "COPY leads_leadtip (lead_id, tip_id, kind, added_at, added_by_id) FROM STDIN"
                ) as copy:
                    for row in link_rows:
                        copy.write_row(row)
                with cur.cursor.copy(f"COPY leads_leadevent ({', '.join(event_cols)}) FROM STDIN") as copy:
                    for row in event_rows:
                        copy.write_row(row)
        made_leads += len(lead_rows)
        made_assignments += len(assignment_rows)
        made_events += len(event_rows)
        if stdout is not None:
            elapsed = time.monotonic() - started
            stdout.write(
                f"  leads {made_leads}/{len(plans)}, assignments {made_assignments} in {elapsed:.1f}s"
            )
    with connection.cursor() as cur:
        for table in ("leads_lead", "leads_assignment", "leads_leadtip", "leads_leadevent"):
            cur.execute(f"ANALYZE {table}")
    return {
        "leads": made_leads,
        "assignments": made_assignments,
        "events": made_events,
        "seconds": round(time.monotonic() - started, 1),
    }


_LOAD_SUMMARY = "压测数据：群众反映有人在当地强揽工程、欺行霸市，请核查。"
