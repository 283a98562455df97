import pytest


@pytest.fixture
def campaign_data(campaign_data):
    """Reference data plus what migrations seed and a transactional test's flush removes: lead sources,
    default deadlines and the holiday calendar."""
    from campaign import workdays
    from campaign.models import CalendarYear
    from campaign.services import calendar_seed_from_package
    from leads.models import DeadlinePolicy
    from leads.services import lead_sources_ensure

    lead_sources_ensure()
    for priority, days in (("normal", 20), ("high", 10), ("urgent", 5)):
        DeadlinePolicy.objects.get_or_create(sector=None, priority=priority, defaults={"days": days})
    if not CalendarYear.objects.filter(year=2026).exists():
        calendar_seed_from_package()
    workdays.clear_cache()
    yield campaign_data
    workdays.clear_cache()


@pytest.fixture
def calendar(db):
    """The holiday calendar as the migration seeds it (re-seeded if a transactional test flushed it)."""
    from campaign import workdays
    from campaign.models import CalendarYear
    from campaign.services import calendar_seed_from_package

    if not CalendarYear.objects.filter(year=2026).exists():
        calendar_seed_from_package()
    workdays.clear_cache()
    yield
    workdays.clear_cache()


@pytest.fixture
def test_redis():
    """The tests' own Redis database, emptied (queues left by earlier tests would feed a worker stale tasks)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
