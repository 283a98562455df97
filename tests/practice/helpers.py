"""Builders shared by the practice tests (on top of tests/leads/factories.py)."""

from leads.models import Lead
from leads.services import lead_register, lead_transition

from ..leads.factories import act, assignment_of, head_of, make_tip, register, sign_off, submit  # noqa: F401


def registered(users, sectors, regions, *, now, units=("housing",), **kw) -> Lead:
    return lead_register(
        actor=users[kw.pop("actor", "office")],
        sector=sectors[kw.pop("sector", "construction")],
        region=regions[kw.pop("region", "xiuwu")],
        summary=kw.pop("summary", "某工地被一伙人强揽砂石供应。"),
        units=list(units),
        now=now,
        **kw,
    )


def step(users, lead, action, who, *, now, **fields) -> Lead:
    actor = users[who] if isinstance(who, str) else who
    return lead_transition(lead_id=lead.pk, action=action, actor=actor, now=now, **fields)


def closed_unsubstantiated(
    users, sectors, regions, *, now, summary, unit="transport", liaison="liaison_transport"
):
    """A lead verified by one unit as 查否 and closed with the office leader's sign-off."""
    import datetime as dt

    lead = registered(users, sectors, regions, now=now, units=[unit], summary=summary, sector="transport")
    step(users, lead, "accept", liaison, now=now + dt.timedelta(hours=1))
    step(
        users,
        lead,
        "request_sign_off",
        liaison,
        now=now + dt.timedelta(days=3),
        result="unsubstantiated",
        findings="查否。",
    )
    step(users, lead, "sign_off", head_of(users, liaison), now=now + dt.timedelta(days=3, hours=1))
    step(users, lead, "submit_result", liaison, now=now + dt.timedelta(days=3, hours=2))
    return step(
        users, lead, "close", "office_leader", now=now + dt.timedelta(days=4), disposition="no_action"
    )
