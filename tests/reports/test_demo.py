"""seed_demo's reports part and the load generator."""

import io
import re

import pytest

from campaign.models import User
from reports import demo
from reports.models import Channel, Tip, TipAttachment, TipEvent, TipMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_reports_covers_channels_sectors_regions_and_is_idempotent(campaign_data):
    out = io.StringIO()
    first = demo.seed_reports(stdout=out)
    assert first["tips_created"] >= 30
    assert set(Tip.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert Tip.objects.values("sector").distinct().count() == 12
    assert Tip.objects.values("region").distinct().count() == 11
    assert Tip.objects.filter(anonymous=False).exists() and Tip.objects.filter(anonymous=True).exists()
    assert TipMessage.objects.exists() and TipAttachment.objects.exists()
    printed = out.getvalue()
    assert printed.count("查询码") == 2 and printed.count("查询密码") == 2
    assert User.objects.get(username="office").has_perm("reports.reveal_identity")
    counts = (
        Tip.objects.count(),
        TipEvent.objects.count(),
        TipMessage.objects.count(),
        TipAttachment.objects.count(),
    )
    second_out = io.StringIO()
    second = demo.seed_reports(stdout=second_out)
    assert second["tips_created"] == 0
    assert counts == (
        Tip.objects.count(),
        TipEvent.objects.count(),
        TipMessage.objects.count(),
        TipAttachment.objects.count(),
    )
    assert second_out.getvalue() == printed  # the same two codes and PINs, still valid


def test_printed_demo_code_and_pin_work_on_the_follow_up_api(api_client, campaign_data):
    out = io.StringIO()
    demo.seed_reports(stdout=out)
    code, pin = re.search(r"查询码 (\S+)\s+查询密码 (\d{6})", out.getvalue()).groups()
    response = api_client.post(
        "/api/v1/public/tips/status/", {"tracking_code": code, "pin": pin}, format="json"
    )
    assert response.status_code == 200


def test_load_generator_makes_realistic_tips_in_bulk(campaign_data):
    result = demo.load_tips(tips=3000, stdout=io.StringIO(), seed=7)
    assert result["tips"] == 3000
    assert Tip.objects.count() == 3000 and TipEvent.objects.count() == 3000
    channels = set(Tip.objects.values_list("channel", flat=True))
    assert len(channels) >= 8
    years = {d.year for d in Tip.objects.values_list("received_at", flat=True)}
    assert len(years) >= 3
    named = Tip.objects.filter(anonymous=False).first()
    from reports.crypto import decrypt_identity

    assert decrypt_identity(named.identity_encrypted)["name"]
    assert Tip.objects.filter(description__contains="，").count() == 3000
    # Online share grows over the three years.
    first_year = Tip.objects.order_by("received_at")[:500]
    last_year = Tip.objects.order_by("-received_at")[:500]
    share = lambda rows: sum(1 for t in rows if t.channel == "online") / 500  # noqa: E731
    assert share(last_year) > share(first_year)
    more = demo.load_tips(tips=10, stdout=io.StringIO(), seed=8)
    assert more["tips"] == 10 and Tip.objects.count() == 3010


def test_big_load_rebuilds_the_trigram_indexes(campaign_data, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(demo, "BIG_LOAD", 100)
    result = demo.load_tips(tips=300, stdout=io.StringIO(), seed=9)
    assert result["tips"] == 300
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports_tip' AND indexdef LIKE '%gin_trgm_ops%'"
        )
        indexes = dict(cur.fetchall())
    assert set(indexes) == {"tip_description_trgm", "tip_accused_trgm"}
    assert Tip.objects.filter(description__trgm_icontains="附近").count() == 300
