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
        received_at=timezone.now(),
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


def submit(users, lead, who, result=Result.SUBSTANTIATED, findings="经走访核实，情况属实。"):
    return act(users, lead, "submit_result", who, result=result, findings=findings)


def build(status: str, users, sectors, regions) -> Lead:
    """A lead in `status` whose assignments let every action the table allows in that status succeed:

    registered: housing sent back (unsettled).
    assigned:   housing and transport waiting to be signed for.
    verifying:  housing signed for with an extension pending; natural_resources signed for;
                transport waiting to be signed for; market has submitted its result.
    verified:   housing and transport have submitted.
    closed:     the verified lead, closed.
    """
    if status == LeadStatus.REGISTERED:
        lead = register(users, sectors, regions, units=["housing"])
        act(users, lead, "send_back", "liaison_housing", note="不属于本单位职责。")
    elif status == LeadStatus.ASSIGNED:
        lead = register(users, sectors, regions, units=["housing", "transport"])
    elif status == LeadStatus.VERIFYING:
        lead = register(
            users, sectors, regions, units=["housing", "natural_resources", "transport", "market"]
        )
        act(users, lead, "accept", "liaison_housing")
        act(users, lead, "request_extension", "liaison_housing", days=5, note="需调取银行流水。")
        act(users, lead, "accept", "liaison_natural_resources")
        act(users, lead, "accept", "liaison_market")
        submit(users, lead, "liaison_market")
    elif status in (LeadStatus.VERIFIED, LeadStatus.CLOSED):
        lead = register(users, sectors, regions, units=["housing", "transport"])
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
