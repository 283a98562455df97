"""线索来源: every lead has a source from a list the office keeps; lists filter and count by it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import LeadSource
from leads.selectors import lead_list_visible_to, source_counts

from .helpers import registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(users, sectors, regions):
    sources = {s.code: s for s in LeadSource.objects.all()}
    made = []
    for code in ("central_inspection", "central_inspection", "platform_12337", "police_110"):
        made.append(registered(users, sectors, regions, now=timezone.now(), source=sources[code]))
    return made


def test_the_standard_sources_are_there_in_the_offices_order():
    names = list(LeadSource.objects.values_list("name", flat=True))
    for name in (
        "中央督导组转办",
        "省扫黑办转办",
        "12337下发",
        "市扫黑办转办",
        "成员单位摸排",
        "群众举报",
        "信访",
        "110警情",
        "媒体曝光",
    ):
        assert name in names
    assert names.index("中央督导组转办") < names.index("媒体曝光")


def test_counts_by_source_include_empty_ones(leads, users):
    counts = {r["code"]: r["count"] for r in source_counts(lead_list_visible_to(users["office"]))}
    assert counts["central_inspection"] == 2 and counts["platform_12337"] == 1 and counts["media"] == 0


def test_the_register_filters_by_source_and_shows_the_counts(leads, client_as, api_as):
    page = client_as("office").get(reverse("leads:list"), {"source": "central_inspection"}).content.decode()
    assert leads[0].number in page and leads[2].number not in page
    assert 'data-source="platform_12337">12337下发 <span class="count">1</span>' in page
    # The counts follow the other filters but not the source one, so every source stays clickable.
    page = (
        client_as("office")
        .get(reverse("leads:list"), {"source": "police_110", "status": "assigned"})
        .content.decode()
    )
    assert 'data-source="central_inspection">中央督导组转办 <span class="count">2</span>' in page
    body = api_as("office").get("/api/v1/leads/", {"source": "platform_12337"}).json()
    assert [r["number"] for r in body["results"]] == [leads[2].number]
    assert body["results"][0]["source_name"] == "12337下发"
    counts = api_as("office").get("/api/v1/leads/counts/", {"status": "assigned"}).json()
    assert {r["code"]: r["count"] for r in counts["by_source"]}["central_inspection"] == 2


def test_an_unknown_source_is_a_readable_error(leads, api_as):
    response = api_as("office").get("/api/v1/leads/", {"source": "nope"})
    assert response.status_code == 400 and "source" in response.json()["errors"]


def test_a_source_the_office_disables_is_not_offered_for_new_leads(client_as):
    LeadSource.objects.filter(code="media").update(is_active=False)
    page = client_as("office").get(reverse("leads:new")).content.decode()
    assert "媒体曝光" not in page and "中央督导组转办" in page
