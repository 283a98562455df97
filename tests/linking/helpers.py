"""Builders for the linking tests: tips through the real intake service, indexed like the worker does."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leads.linking.services import entities_index_lead, entities_index_tip
from reports.services import tip_submit


def make_tip(
    campaign_data,
    description: str,
    *,
    accused: str = "",
    channel: str = "online",
    sector: str | None = "construction",
    region: str | None = "jiefang",
    location: str = "",
    days_ago: float = 0,
    index: bool = True,
):
    users = campaign_data["users"]
    tip, _pin = tip_submit(
        description=description,
        channel=channel,
        sector=campaign_data["sectors"][sector] if sector else None,
        region=campaign_data["regions"][region] if region else None,
        accused=accused,
        location=location,
        created_by=None if channel == "online" else users["office"],
        received_at=timezone.now() - dt.timedelta(days=days_ago) if days_ago else None,
    )
    if index:
        entities_index_tip(tip_id=tip.pk)
    return tip


def make_lead(
    campaign_data, summary: str, *, accused: str = "", units=(), sector="construction", region="jiefang"
):
    from leads.services import lead_register

    lead = lead_register(
        actor=campaign_data["users"]["office"],
        sector=campaign_data["sectors"][sector],
        region=campaign_data["regions"][region],
        summary=summary,
        accused=accused,
        units=[campaign_data["units"][u] for u in units],
    )
    entities_index_lead(lead_id=lead.pk)
    return lead


def refs(related) -> dict[tuple[str, int], object]:
    return {(str(i.kind), i.id): i for i in related.items}
