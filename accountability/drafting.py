"""Default wording of proposals and the official document of an action.

Drafts are proposals: the office reads and edits the title and body before issuing, so the texts here
are a sensible first version in the usual words, not the final say.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.workdays import workdays_between

from .conf import acc_setting
from .documents import Block, OfficialDocument, blocks_from_text, format_doc_date
from .models import ActionKind

TITLE_TEMPLATES = {
    ActionKind.NOTICE: "关于对{units}{topic}的通报",
    ActionKind.TALK: "关于约谈{units}主要负责同志的通知",
    ActionKind.SUPERVISION: "关于对{units}{topic}进行督办的通知",
    ActionKind.LISTED_SUPERVISION: "关于对{units}{topic}实行挂牌督办的通知",
    ActionKind.RECTIFICATION: "关于责令{units}限期整改的通知",
    ActionKind.VETO: "关于对{units}实行扫黑除恶工作一票否决的决定",
    ActionKind.REFERRAL: "关于移送{units}有关人员问题线索的函",
}

CLOSING = {
    ActionKind.NOTICE: "希望各成员单位引以为戒，切实履行行业监管职责，严格落实线索核查时限要求。",
    ActionKind.TALK: "请被约谈单位主要负责同志准时参加，并就有关问题作出说明、提出整改措施。",
    ActionKind.SUPERVISION: "请你单位接此通知后立即组织力量办理，按期报送办理结果。逾期未报的，将按规定予以通报、约谈。",
    ActionKind.LISTED_SUPERVISION: "请你单位对照整改事项逐项落实，按期报送整改情况及佐证材料。逾期未完成的，将按规定予以通报、约谈，直至实行一票否决。",
    ActionKind.RECTIFICATION: "请你单位对照整改事项逐项落实，按期报送整改情况及佐证材料。",
    ActionKind.VETO: "请你单位深刻反思，认真整改。",
    ActionKind.REFERRAL: "请依规依纪依法处理，并将处理结果反馈市扫黑办。",
}


def unit_names(units) -> str:
    return "、".join(u.short_name or u.name for u in units)


def default_title(kind: str, units, *, topic: str = "") -> str:
    topic = topic or _("线索核查工作")
    return TITLE_TEMPLATES[ActionKind(kind)].format(units=unit_names(units), topic=topic)


def lead_overdue_sentence(assignment, now: dt.datetime) -> str:
    lead = assignment.lead
    deadline = timezone.localtime(assignment.deadline).date()
    overdue = max(workdays_between(assignment.deadline, now), 0)
    return _(
        "你单位承办的线索%(number)s（%(summary)s），办理期限为%(deadline)s，截至%(today)s已超期%(days)s个工作日，至今未反馈核查结果。"
    ) % {
        "number": lead.number,
        "summary": (lead.summary or "")[:40].rstrip("。，,. ")
        + ("…" if len(lead.summary or "") > 40 else ""),
        "deadline": format_doc_date(deadline),
        "today": format_doc_date(timezone.localdate(now)),
        "days": overdue,
    }


def escalation_reasons(assignments, now: dt.datetime) -> str:
    return "\n".join(lead_overdue_sentence(a, now) for a in assignments)


def default_body(kind: str, *, reasons: str) -> str:
    kind = ActionKind(kind)
    parts = [p.strip() for p in reasons.splitlines() if p.strip()]
    if kind == ActionKind.SUPERVISION:
        parts.append(_("根据扫黑除恶专项斗争线索核查督办有关规定，现予督办。"))
    elif kind == ActionKind.LISTED_SUPERVISION:
        parts.append(_("经研究，决定对上述问题实行挂牌督办，限期整改到位。整改事项及期限如下："))
    elif kind == ActionKind.RECTIFICATION:
        parts.append(_("经研究，责令你单位限期整改。整改事项及期限如下："))
    elif kind == ActionKind.TALK:
        parts.append(_("经市扫黑办研究，决定约谈你单位主要负责同志。现将有关事项通知如下："))
        parts.append(_("一、约谈时间、地点"))
        parts.append(_("约谈时间、地点另行通知。"))
        parts.append(_("二、约谈内容"))
        parts.append(_("听取线索核查工作情况汇报，指出存在的问题，提出整改要求。"))
    parts.append(CLOSING[kind])
    return "\n\n".join(parts)


def talk_paragraph(action) -> str | None:
    if action.kind != ActionKind.TALK or not (action.talk_at or action.talk_place):
        return None
    when = timezone.localtime(action.talk_at) if action.talk_at else None
    text = _("约谈时间：%(when)s；约谈地点：%(place)s。") % {
        "when": f"{format_doc_date(when.date())}{when:%H:%M}" if when else _("另行通知"),
        "place": action.talk_place or _("另行通知"),
    }
    return text


def action_document(action, *, record: bool = False) -> OfficialDocument:
    """The official document of an action (or, `record=True`, the record of an admonishment talk)."""
    units = list(action.units.all())
    body_text = action.body or default_body(action.kind, reasons=action.reasons)
    talk = talk_paragraph(action)
    if talk and "约谈时间、地点另行通知" in body_text:
        body_text = body_text.replace("约谈时间、地点另行通知。", talk)
    elif talk:
        body_text += "\n\n" + talk
    title = action.title
    if record:
        title = _("约谈记录")
        lines = [
            _("约谈事由：%(reasons)s") % {"reasons": " ".join(action.reasons.split())},
            talk or "",
            _("被约谈人：%(persons)s")
            % {"persons": "、".join(str(p) for p in action.persons.all()) or unit_names(units)},
            action.talk_record,
        ]
        body_text = "\n\n".join(line for line in lines if line)
    items = list(action.items.all())
    blocks = blocks_from_text(body_text)
    if items and not record:
        header = [_("序号"), _("整改要求"), _("整改期限")]
        rows = [
            [
                str(i.seq),
                i.description,
                format_doc_date(timezone.localtime(i.deadline).date())
                if i.deadline
                else _("印发后%(n)s个工作日内") % {"n": i.deadline_days},
            ]
            for i in items
        ]
        table = Block("table", rows=rows, header=header, caption=_("整改事项清单"))
        # The list goes after the paragraph that announces it, before the closing paragraph.
        at = next((n + 1 for n, b in enumerate(blocks) if b.text.endswith("如下：")), len(blocks))
        blocks.insert(at, table)
    issued_day = action.doc_date or (timezone.localdate(action.issued_at) if action.issued_at else None)
    cc = [c for c in (action.cc or acc_setting("DEFAULT_CC")).replace("、", "，").split("，") if c.strip()]
    return OfficialDocument(
        title=title,
        body=blocks,
        issuer=action.issuer or acc_setting("ISSUER_FULL_NAME"),
        header_suffix=acc_setting("HEADER_SUFFIX"),
        signature=action.issuer or acc_setting("ISSUER_FULL_NAME"),
        date=issued_day or (timezone.localdate() if action.is_draft else None),
        number=action.doc_number,
        addressees=action.addressees or unit_names(units),
        sealed=True,
        cc=cc,
        printer=acc_setting("ISSUER_SHORT_NAME"),
        printed_on=issued_day,
        draft=action.is_draft,
    )
