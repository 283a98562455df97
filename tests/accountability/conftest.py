"""Fixtures for accountability tests: leads with assignments, drafts, issued actions, evidence files."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability import services
from accountability.demo import demo_png
from accountability.models import ActionKind


@pytest.fixture
def make_lead(users, sectors, regions):
    """make_lead("housing", accused=…) -> (lead, assignment), registered and assigned by the office."""
    from leads.services import lead_register

    def make(
        unit="housing",
        *,
        sector="construction",
        region="jiefang",
        summary="某工地存在强揽工程、暴力阻工问题",
        accused="",
        now=None,
        days=None,
    ):
        lead = lead_register(
            actor=users["office"],
            sector=sectors[sector],
            region=regions[region],
            summary=summary,
            accused=accused,
            units=[unit],
            days=days,
            now=now,
        )
        return lead, lead.assignments.get()

    return make


@pytest.fixture
def png():
    return demo_png


@pytest.fixture
def draft(users, units):
    """make a draft: draft(kind=…, unit="housing", items=[…])."""

    def make(kind=ActionKind.LISTED_SUPERVISION, unit="housing", items=None, **kwargs):
        if items is None and kind in (ActionKind.LISTED_SUPERVISION, ActionKind.RECTIFICATION):
            items = [
                {"description": "重新组织核查", "deadline_days": 10},
                {"description": "建立线索台账", "deadline_days": 20},
            ]
        return services.action_propose(
            kind=kind,
            units=[units[unit]],
            reasons=kwargs.pop("reasons", "线索核查超期未反馈。"),
            items=items or [],
            actor=users["office"],
            **kwargs,
        )

    return make


@pytest.fixture
def issued(draft, users):
    def make(kind=ActionKind.LISTED_SUPERVISION, unit="housing", now=None, **kwargs):
        action = draft(kind=kind, unit=unit, **kwargs)
        return services.action_transition(action_id=action.pk, step="issue", actor=users["office"], now=now)

    return make


def aware(y, m, d, hh=10, mm=0):
    return timezone.make_aware(dt.datetime(y, m, d, hh, mm))
