"""Builders for the dashboard fixture: rows written directly, with exact dates and states."""

import datetime as dt
import itertools

from django.utils import timezone

from leads.models import Assignment, Lead, LeadTip
from reports.models import Tip

_seq = itertools.count(1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def make_tip(
    *,
    day,
    channel="online",
    sector=None,
    region=None,
    hour=10,
    description="有人强揽工程、威胁村民。",
    **extra,
):
    n = next(_seq)
    return Tip.objects.create(
        tracking_code=f"DSH{n:05d}",
        pin_hash="-",
        channel=channel,
        description=description,
        sector=sector,
        region=region,
        received_at=at(day, hour),
        **extra,
    )


def make_lead(
    *,
    users,
    sector,
    region,
    day,
    status="registered",
    result="",
    disposition="",
    tip=None,
    creator="office",
    **extra,
):
    n = next(_seq)
    lead = Lead.objects.create(
        number=f"JZ-T-{n:05d}",
        year=day.year,
        status=status,
        summary="某地存在强揽工程问题。",
        sector=sector,
        region=region,
        created_by=users[creator],
        created_at=at(day, 9),
        result=result,
        disposition=disposition,
        **extra,
    )
    if tip is not None:
        LeadTip.objects.create(lead=lead, tip=tip, added_by=users["office"])
    return lead


def make_assignment(*, users, lead, unit, assigned, deadline, status="assigned", **extra):
    if status == "submitted":
        extra.setdefault("findings", "经核查，情况如下。")
    return Assignment.objects.create(
        lead=lead,
        unit=unit,
        status=status,
        assigned_by=users["office"],
        assigned_at=assigned,
        deadline=deadline,
        **extra,
    )
