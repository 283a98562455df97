"""campaign.reference: sector and region rows by code, kept per process for a short time."""

import pytest

from campaign import reference
from campaign.models import Sector

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    reference._rows.clear()
    yield
    reference._rows.clear()


def test_rows_are_kept_for_the_configured_time(sectors, settings, django_assert_num_queries):
    settings.REFERENCE_CACHE_SECONDS = 60
    with django_assert_num_queries(1):
        first = reference.by_code(Sector, "construction")
        again = reference.by_code(Sector, "construction")
    assert first is again and first == sectors["construction"]


def test_unknown_codes_are_not_kept(sectors, settings, django_assert_num_queries):
    settings.REFERENCE_CACHE_SECONDS = 60
    with django_assert_num_queries(2):
        assert reference.by_code(Sector, "no-such-sector") is None
        assert reference.by_code(Sector, "no-such-sector") is None
    assert not reference._rows


def test_zero_seconds_turns_the_cache_off(sectors, settings, django_assert_num_queries):
    settings.REFERENCE_CACHE_SECONDS = 0
    with django_assert_num_queries(2):
        reference.by_code(Sector, "construction")
        reference.by_code(Sector, "construction")


def test_an_expired_row_is_read_again(sectors, settings, monkeypatch):
    settings.REFERENCE_CACHE_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr(reference.time, "monotonic", lambda: clock[0])
    reference.by_code(Sector, "construction")
    Sector.objects.filter(code="construction").update(name="建设工程（改）")
    assert reference.by_code(Sector, "construction").name != "建设工程（改）"
    clock[0] += 61
    assert reference.by_code(Sector, "construction").name == "建设工程（改）"
