"""Practice tests (issue 11) reuse the leads fixtures: the extra unit accounts and the lead sources."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.leads.conftest import campaign_data  # noqa: F401 — the leads extension of the shared fixture


def at(text: str) -> dt.datetime:
    """A local (Asia/Shanghai) moment: at("2026-03-05 10:00")."""
    return timezone.make_aware(dt.datetime.fromisoformat(text), timezone.get_current_timezone())


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    """SMS to the in-memory backend unless a test points it at the fake gateway."""
    from campaign import sms

    settings.SMS_BACKEND = "campaign.sms.LocmemBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()
