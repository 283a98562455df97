"""The entity index: filled at intake (a worker after tip_committed), by the sweep and by the backfill."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from leads.linking.models import Entity, EntityMention, IndexState
from leads.linking.services import entities_index_sweep, entities_index_tip
from reports.models import Tip

from .helpers import make_lead, make_tip

pytestmark = pytest.mark.django_db


def phone_entity():
    return Entity.objects.get(kind="phone", value="13703911234")


def test_indexing_a_tip_stores_each_entity_once_with_its_raw_text(campaign_data):
    tip = make_tip(
        campaign_data,
        "焦作市宏达土石方工程有限公司强揽工地土方，带头的电话137-0391-1234，再打137-0391-1234也没人管。",
        accused="马建国（外号“马三”）",
    )
    mentions = {
        (m.entity.kind, m.entity.value): m
        for m in EntityMention.objects.filter(tip=tip).select_related("entity")
    }
    assert ("phone", "13703911234") in mentions
    assert ("company", "焦作市宏达土石方工程有限公司") in mentions
    assert ("person", "马建国") in mentions
    assert ("alias", "马三") in mentions
    assert mentions[("phone", "13703911234")].raw == "137-0391-1234"
    assert mentions[("person", "马建国")].field == "accused"
    assert phone_entity().mention_count == 1
    company = Entity.objects.get(kind="company")
    assert company.key == "宏达土石方工程"
    assert IndexState.objects.get(kind="tip", item_id=tip.pk).entity_count == len(mentions)


def test_indexing_twice_changes_nothing(campaign_data):
    tip = make_tip(campaign_data, "电话13703911234的人在工地收保护费。")
    before = list(EntityMention.objects.values_list("id", "entity_id"))
    entities_index_tip(tip_id=tip.pk)
    entities_index_tip(tip_id=tip.pk)
    assert list(EntityMention.objects.values_list("id", "entity_id")) == before
    assert phone_entity().mention_count == 1


def test_the_same_number_written_three_ways_is_one_entity(campaign_data):
    for text in ("电话137-0391-1234", "电话 137 0391 1234 ", "电话１３７０３９１１２３４", "+86 13703911234"):
        make_tip(campaign_data, f"有人在工地强揽土方，{text}。")
    assert Entity.objects.filter(kind="phone").count() == 1
    assert phone_entity().mention_count == 4


def test_reindexing_after_an_edit_moves_the_counts(campaign_data):
    tip = make_tip(campaign_data, "电话13703911234的人在工地收保护费。")
    Tip.objects.filter(pk=tip.pk).update(description="电话13803911234的人在工地收保护费。")
    entities_index_tip(tip_id=tip.pk)
    assert phone_entity().mention_count == 0
    assert Entity.objects.get(value="13803911234").mention_count == 1
    assert EntityMention.objects.filter(tip=tip).count() == 1


def test_a_committed_tip_is_indexed_by_its_routing_task_on_the_routing_queue(
    campaign_data, django_capture_on_commit_callbacks
):
    """One message per tip (issue 10): the routing task indexes the tip; no indexing message of its own."""
    from leads import intake
    from reports.services import tip_submit

    with (
        mock.patch("leads.linking.tasks.index_tip.apply_async") as index_apply,
        mock.patch("leads.tasks.route_tip.apply_async") as route_apply,
        django_capture_on_commit_callbacks(execute=True),
    ):
        tip, _pin = tip_submit(description="有人在工地强揽土方，电话13703911234。")
    index_apply.assert_not_called()
    route_apply.assert_called_once()
    assert route_apply.call_args.kwargs["kwargs"] == {"tip_id": tip.pk}
    assert intake.tip_route_batch(tip_id=tip.pk) == 1  # what the worker runs
    assert IndexState.objects.filter(kind="tip", item_id=tip.pk).exists()
    assert phone_entity().mention_count == 1


def test_a_broker_outage_never_fails_the_submission(campaign_data, django_capture_on_commit_callbacks):
    from reports.services import tip_submit

    with (
        mock.patch("leads.linking.tasks.index_tip.apply_async", side_effect=OSError("redis down")),
        mock.patch("leads.tasks.route_tip.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tip, _pin = tip_submit(description="有人在工地强揽土方，电话13703911234。")
    assert Tip.objects.filter(pk=tip.pk).exists()
    assert not IndexState.objects.filter(item_id=tip.pk).exists()
    # The sweep picks it up once it is a few seconds old.
    Tip.objects.filter(pk=tip.pk).update(received_at=tip.received_at.replace(year=tip.received_at.year - 1))
    counts = entities_index_sweep()
    assert counts["tips"] == 1
    assert IndexState.objects.filter(kind="tip", item_id=tip.pk).exists()


def test_the_sweep_indexes_new_leads(campaign_data):
    from leads.services import lead_register

    lead = lead_register(
        actor=campaign_data["users"]["office"],
        sector=campaign_data["sectors"]["construction"],
        region=campaign_data["regions"]["jiefang"],
        summary="某工地被焦作市宏达土石方工程有限公司强揽，联系人13703911234。",
    )
    assert not IndexState.objects.filter(kind="lead", item_id=lead.pk).exists()
    counts = entities_index_sweep()
    assert counts["leads"] == 1
    assert EntityMention.objects.filter(lead=lead, entity__kind="phone").exists()
    assert entities_index_sweep()["leads"] == 0


def test_backfill_is_batched_and_resumable(campaign_data):
    tips = [
        make_tip(campaign_data, f"工地有人强揽土方，电话1370391{1000 + i}。", index=False) for i in range(5)
    ]
    make_lead(campaign_data, "线索摘要：电话13703911000的人强揽土方。")
    out = StringIO()
    call_command("linking_backfill", "--kind", "tip", "--batch", "2", "--limit", "3", stdout=out)
    assert IndexState.objects.filter(kind="tip").count() == 3
    call_command("linking_backfill", "--kind", "tip", "--batch", "2", stdout=out)
    assert IndexState.objects.filter(kind="tip").count() == 5
    assert Entity.objects.get(value="13703911000").mention_count == 2  # one tip, one lead
    call_command("linking_backfill", stdout=out)
    assert "tip=0" in out.getvalue().splitlines()[-1]
    assert {t.pk for t in tips} == set(
        IndexState.objects.filter(kind="tip").values_list("item_id", flat=True)
    )


def test_backfill_rebuild_reindexes_everything_once(campaign_data):
    tip = make_tip(campaign_data, "电话13703911234。")
    Tip.objects.filter(pk=tip.pk).update(description="电话13803911234。")
    out = StringIO()
    call_command("linking_backfill", "--kind", "tip", "--rebuild", stdout=out)
    assert "--before" in out.getvalue()
    assert EntityMention.objects.get(tip=tip).entity.value == "13803911234"


def test_backfill_refuses_a_bad_before_time(campaign_data):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("linking_backfill", "--rebuild", "--before", "yesterday", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_worker_indexes_a_committed_tip_within_a_minute(campaign_data, celery_worker_process):
    from reports.services import tip_submit
    from tests.conftest import wait_for

    celery_worker_process(queues="routing")
    first, _pin = tip_submit(description="工地有人强揽土方，电话137-0391-1234。")
    second, _pin = tip_submit(
        description="他们的车队霸占砂石运输，电话１３７ ０３９１ １２３４。",
        channel="phone",
        created_by=campaign_data["users"]["office"],
    )
    wait_for(
        lambda: IndexState.objects.filter(kind="tip", item_id__in=[first.pk, second.pk]).count() == 2,
        timeout=60,
    )
    assert phone_entity().mention_count == 2
