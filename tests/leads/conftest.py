import pytest


@pytest.fixture
def campaign_data(campaign_data):
    """The shared reference data, plus what the leads migrations seed (lead sources, default deadlines):
    a transactional test's flush removes migration data, so it is put back here."""
    from leads.models import DeadlinePolicy
    from leads.services import lead_sources_ensure

    lead_sources_ensure()
    for priority, days in (("normal", 20), ("high", 10), ("urgent", 5)):
        DeadlinePolicy.objects.get_or_create(sector=None, priority=priority, defaults={"days": days})
    return campaign_data
