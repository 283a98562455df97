"""Builders for lead tests: tips (written directly; the tip-intake rules are the reports app's business)
and leads in any status, built through the real services."""

import itertools

from django.utils import timezone

from leads.models import AssignmentStatus, Lead, LeadStatus, Result
from leads.services import lead_register, lead_transition
from reports.models import Tip

_seq = itertools.count(1)


def make_tip(
    *, sector=None, region=None, description="有人在工地强揽土方，殴打其他车队司机。", **extra
) -> Tip:
    n = next(_seq)
    return Tip.objects.create(
        tracking_code=f"T{n:04d}-TEST-{n:04d}"[:20],
        pin_hash="-",
        description=description,
        received_at=extra.pop("received_at", None) or timezone.now(),
        sector=sector,
        region=region,
        **extra,
    )


def register(
    users, sectors, regions, *, units=(), actor="office", sector="construction", region="xiuwu", **kw
) -> Lead:
    return lead_register(
        actor=users[actor],
        sector=sectors[sector],
        region=regions[region],
        summary=kw.pop("summary", "某工地被一伙人强揽砂石供应。"),
        units=list(units),
        **kw,
    )


def act(users, lead, action, who, **fields) -> Lead:
    return lead_transition(lead_id=lead.pk, action=action, actor=users[who], **fields)


def head_of(users, who):
    """The unit head of `who`'s unit (tests/leads/conftest.py makes sure every test unit has one)."""
    from campaign.models import User

    return User.objects.get(role="unit_head", unit_id=users[who].unit_id)


def sign_off(users, lead, who, result=Result.SUBSTANTIATED, findings="经走访核实，情况属实。"):
    """The liaison puts the result to the unit head, who signs it off (签字背书)."""
    act(users, lead, "request_sign_off", who, result=result, findings=findings)
    return lead_transition(lead_id=lead.pk, action="sign_off", actor=head_of(users, who))


def submit(users, lead, who, result=Result.SUBSTANTIATED, findings="经走访核实，情况属实。"):
    """Sign-off, then the final report-back with the signed result (issue 11)."""
    sign_off(users, lead, who, result=result, findings=findings)
    return act(users, lead, "submit_result", who)


def build(status: str, users, sectors, regions) -> Lead:
    """A lead in `status` whose assignments let every action the table allows in that status succeed:

    registered: housing sent back (unsettled).
    assigned:   housing and transport waiting to be signed for; police sent back (unsettled).
    verifying:  housing signed for with an extension pending and its result put to its head;
                natural_resources signed for, first report-back filed, result signed off;
                transport waiting to be signed for; market has submitted its result;
                police sent back (unsettled).
    verified:   housing and transport have submitted; police sent back (unsettled).
    closed:     the verified lead, closed.
    """
    if status == LeadStatus.REGISTERED:
        lead = register(users, sectors, regions, units=["housing"])
        act(users, lead, "send_back", "liaison_housing", note="不属于本单位职责。")
    elif status == LeadStatus.ASSIGNED:
        lead = register(users, sectors, regions, units=["housing", "transport", "police"])
        act(users, lead, "send_back", "liaison_police", note="不属于本单位职责。")
    elif status == LeadStatus.VERIFYING:
        lead = register(
            users, sectors, regions, units=["housing", "natural_resources", "transport", "market", "police"]
        )
        act(users, lead, "send_back", "liaison_police", note="不属于本单位职责。")
        act(users, lead, "accept", "liaison_housing")
        act(users, lead, "request_extension", "liaison_housing", days=5, note="需调取银行流水。")
        act(
            users, lead, "request_sign_off", "liaison_housing", result="partly", findings="初步核实部分属实。"
        )
        act(users, lead, "accept", "liaison_natural_resources")
        act(users, lead, "report_first", "liaison_natural_resources", note="已成立核查组，正在调取材料。")
        sign_off(users, lead, "liaison_natural_resources", result="partly", findings="部分属实，已责令整改。")
        act(users, lead, "accept", "liaison_market")
        submit(users, lead, "liaison_market")
    elif status in (LeadStatus.VERIFIED, LeadStatus.CLOSED):
        lead = register(users, sectors, regions, units=["housing", "transport", "police"])
        act(users, lead, "send_back", "liaison_police", note="不属于本单位职责。")
        act(users, lead, "accept", "liaison_housing")
        act(users, lead, "accept", "liaison_transport")
        submit(users, lead, "liaison_housing")
        submit(users, lead, "liaison_transport", result=Result.PARTLY)
        if status == LeadStatus.CLOSED:
            act(users, lead, "close", "office", disposition="no_action")
    else:
        raise ValueError(status)
    lead.refresh_from_db()
    assert lead.status == status, (lead.status, status)
    return lead


def assignment_of(lead, unit_code):
    return lead.assignments.exclude(status=AssignmentStatus.WITHDRAWN).get(unit__code=unit_code)
