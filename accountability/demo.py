"""Demo data for accountability (seed_demo, order 40): actions of every kind in different states, a
listed-supervision order with items and reports, unit tasks, and computed assessments. Idempotent."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaign.models import Phase, PublicityActivity, Unit, User

from . import assessments, services
from .models import Action, ActionKind, ActionSource, UnitTask


def demo_png(label: str = "evidence") -> SimpleUploadedFile:
    """A tiny valid PNG (8×8, grey) so the upload checks accept it as an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x80" * 8 for _ in range(8))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(f"{label}.png", png, content_type="image/png")


def _issue(action: Action, office: User, now) -> Action:
    return services.action_transition(action_id=action.pk, step="issue", actor=office, now=now)


def seed_accountability(stdout=None) -> dict:
    if Action.objects.filter(dedupe_key__startswith="demo:").exists():
        return {"actions_created": 0}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["office", "liaison_housing", "liaison_transport"])
    }
    office = users.get("office")
    if office is None:
        return {"actions_created": 0}
    units = {u.code: u for u in Unit.objects.all()}
    now = timezone.now()
    created = 0

    def propose(key: str, **kwargs) -> Action:
        nonlocal created
        created += 1
        return services.action_propose(
            actor=office, dedupe_key=f"demo:{key}", notify_office=False, now=now, **kwargs
        )

    # 1. A notice (通报), issued and closed.
    notice = propose(
        "notice",
        kind=ActionKind.NOTICE,
        units=[units["market"]],
        reasons="市市场监管局承办的3条商贸集市领域线索均超期20个工作日以上未反馈，核查工作严重滞后。",
    )
    _issue(notice, office, now)
    services.action_transition(action_id=notice.pk, step="close", actor=office, note="已在全市通报。")

    # 2. An admonishment talk (约谈), issued, talk recorded.
    talk = propose(
        "talk",
        kind=ActionKind.TALK,
        units=[units["transport"]],
        reasons="市交通运输局承办的“车站码头强揽客源”线索超期15个工作日未反馈，经督办仍未整改到位。",
        persons=[{"name": "刘志强", "title": "市交通运输局局长", "unit": "transport"}],
    )
    services.action_update_draft(
        action_id=talk.pk,
        actor=office,
        talk_at=now + dt.timedelta(days=3),
        talk_place="市委政法委三楼会议室",
    )
    _issue(talk, office, now)
    services.action_transition(
        action_id=talk.pk,
        step="record_talk",
        actor=office,
        talk_record="被约谈人就线索核查超期问题作了说明，承诺10个工作日内完成核查并报送结果。",
    )

    # 3. Listed supervision (挂牌督办) with two items: one accepted, one rejected (rectifying).
    listed = propose(
        "listed",
        kind=ActionKind.LISTED_SUPERVISION,
        units=[units["housing"]],
        reasons="市住建局承办的工程建设领域线索核查不深不透，2条线索被退回重查后仍超期未反馈。",
        items=[
            {
                "description": "对退回重查的2条线索重新组织核查，查清涉案人员和工程项目情况。",
                "deadline_days": 15,
            },
            {"description": "建立工程建设领域线索核查台账，明确专人负责，逐条销号。", "deadline_days": 20},
        ],
    )
    _issue(listed, office, now - dt.timedelta(days=10))
    liaison = users.get("liaison_housing")
    if liaison:
        items = list(listed.items.order_by("seq"))
        for item in items:
            services.action_transition(
                action_id=listed.pk,
                step="report",
                actor=liaison,
                item=item.pk,
                body="已按要求完成整改，附相关材料。" if item.seq == 1 else "已建立台账。",
                evidence=[demo_png(f"整改材料{item.seq}")],
            )
        services.action_transition(
            action_id=listed.pk,
            step="accept_item",
            actor=office,
            item=items[0].pk,
            note="核查扎实，予以验收。",
        )
        services.action_transition(
            action_id=listed.pk,
            step="reject_item",
            actor=office,
            item=items[1].pk,
            note="台账未明确责任人，请补充后重新报送。",
        )

    # 4. A rectification order (限期整改) whose deadline has passed: overdue after the sweep.
    order = propose(
        "rectification",
        kind=ActionKind.RECTIFICATION,
        units=[units["natural_resources"]],
        reasons="市自然资源和规划局矿产资源领域连续两个季度未发现线索，行业监管存在盲区。",
        items=[
            {
                "description": "开展矿产资源领域涉黑涉恶问题专项排查，形成排查报告。",
                "deadline": timezone.localdate(now) - dt.timedelta(days=3),
            }
        ],
    )
    _issue(order, office, now - dt.timedelta(days=30))
    services.rectification_sweep(now=now)

    # 5. Supervision (督办) issued with no items yet reported.
    supervision = propose(
        "supervision",
        kind=ActionKind.SUPERVISION,
        units=[units["transport"]],
        reasons="市交通运输局承办的交通运输领域线索已超期7个工作日未反馈。",
        items=[{"description": "立即开展核查，按期报送核查结果。", "deadline_days": 10}],
    )
    _issue(supervision, office, now)

    # 6. A one-vote veto (一票否决) against agriculture, and a referral (移送纪委监委).
    veto = propose(
        "veto",
        kind=ActionKind.VETO,
        units=[units["agriculture"]],
        reasons="市农业农村局对渔业捕捞领域“渔霸”问题线索长期查否不办，经倒查存在失职失责问题。",
    )
    _issue(veto, office, now)
    referral = propose(
        "referral",
        kind=ActionKind.REFERRAL,
        units=[units["agriculture"]],
        reasons="市农业农村局有关工作人员涉嫌为“渔霸”团伙通风报信，充当“保护伞”。",
        persons=[{"name": "张某某", "title": "市农业农村局渔政科原科长", "unit": "agriculture"}],
    )
    _issue(referral, office, now)

    # 7. Drafts: a blind-spot proposal, and one dismissed with a reason.
    propose(
        "blind-spot",
        kind=ActionKind.NOTICE,
        units=[units["culture_tourism"]],
        reasons="2026年第1季度全市旅游景区领域未发现涉黑涉恶线索，存在监管盲区。",
        source=ActionSource.BLIND_SPOT,
    )
    dismissed = propose(
        "dismissed",
        kind=ActionKind.TALK,
        units=[units["petition"]],
        reasons="市信访局转办信访件超期未反馈。",
        source=ActionSource.ESCALATION,
    )
    services.action_transition(
        action_id=dismissed.pk, step="dismiss", actor=office, note="经核实系系统派单错误，已改派，不予问责。"
    )
    # Escalated leads from the leads demo, if any, become drafts the office sees on its home page.
    services.proposals_sweep(now=now)

    # Unit tasks of the current phase: done, in progress, submitted, overdue.
    phase = Phase.objects.filter(
        starts_on__lte=timezone.localdate(now), ends_on__gte=timezone.localdate(now)
    ).first()
    phase = phase or Phase.objects.order_by("-starts_on").first()
    specs = [
        ("housing", "开展工程建设领域“强揽工程”问题专项排查", 10, "done"),
        ("transport", "清理车站码头积压线索，逐条见底销号", 15, "progress"),
        ("market", "开展商贸集市欺行霸市问题宣传发动", 5, "submitted"),
        ("natural_resources", "报送矿产资源领域行业乱象整治方案", -5, "overdue"),
    ]
    for code, title, days, state in specs:
        if UnitTask.objects.filter(unit=units[code], title=title).exists():
            continue
        start = now - dt.timedelta(days=30) if days < 0 else now - dt.timedelta(days=2)
        task = services.unit_task_assign(
            actor=office,
            units=[units[code]],
            title=title,
            description="按照阶段性部署要求，抓好落实并按期报送进展。",
            phase=phase,
            deadline_days=abs(days) if days > 0 else 10,
            now=start,
        )[0]
        unit_user = User.objects.filter(unit=units[code], role__in=["liaison", "unit_head"]).first()
        if unit_user and state in ("done", "progress", "submitted"):
            services.unit_task_report(
                task_id=task.pk,
                actor=unit_user,
                body="已召开专题会议部署，正在推进。",
                progress=60,
                files=[demo_png("进展材料")],
            )
            if state in ("done", "submitted"):
                services.unit_task_report(
                    task_id=task.pk, actor=unit_user, body="任务已全部完成。", progress=100, is_final=True
                )
            if state == "done":
                services.unit_task_review(task_id=task.pk, actor=office, accept=True, note="同意报结。")
    services.unit_tasks_sweep(now=now)

    if not PublicityActivity.objects.exists():
        for i, code in enumerate(["housing", "transport", "market", "police"]):
            PublicityActivity.objects.create(
                unit=units[code],
                held_on=timezone.localdate(now) - dt.timedelta(days=3 + i),
                kind=PublicityActivity.Kind.MEETING,
                place="焦作市人民广场",
                reach=200 + 50 * i,
                description="扫黑除恶专项斗争集中宣传活动",
                created_by=office,
            )
    counts = assessments.assessments_compute_current(now=now)
    if stdout is not None:
        stdout.write(f"accountability: {created} actions, {counts['assessments']} assessments")
    return {"actions_created": created, **counts}
