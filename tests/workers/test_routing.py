"""Routing of committed tips, called directly (the worker tests run the same service in a real worker)."""

import datetime as dt
import json
from io import StringIO
from unittest import mock

import pytest
from celery import current_app
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from campaign import ops
from leads import intake
from leads.linking.models import IndexState
from leads.linking.services import entities_index_lead, entities_index_tip
from leads.models import RoutingRule
from reports.models import Tip, TipEvent
from reports.services import tip_submit

from ..leads.factories import make_tip, register

TEXT = (
    "解放区某建筑工程有限公司老板外号“黑三”，纠集社会人员在人民路工地强揽土方，电话13703911234，不给就打人。"
)


def test_routing_stores_the_proposal_once_and_a_second_run_changes_nothing(sectors, regions, units):
    tip = make_tip(sector=sectors["construction"], region=regions["jiefang"], description=TEXT)
    assert intake.tip_route(tip_id=tip.pk) is True
    tip.refresh_from_db()
    routed_at, version, proposal = tip.routed_at, tip.version, tip.routing_proposal
    assert routed_at is not None
    assert [u["unit"] for u in proposal["units"]] == [sectors["construction"].lead_unit.code]
    assert {"kind": "phone", "value": "137****1234"} in proposal["entities"]
    assert TipEvent.objects.filter(tip=tip, kind="routed").count() == 1

    assert intake.tip_route(tip_id=tip.pk) is False
    tip.refresh_from_db()
    assert (tip.routed_at, tip.version, tip.routing_proposal) == (routed_at, version, proposal)
    assert TipEvent.objects.filter(tip=tip, kind="routed").count() == 1


def test_routing_rules_decide_the_proposed_units(sectors, regions, units):
    rule = RoutingRule.objects.create(
        name="解放区工地", sector=sectors["construction"], region=regions["jiefang"]
    )
    rule.units.set([units["police"], units["housing"]])
    tip = make_tip(sector=sectors["construction"], region=regions["jiefang"], description=TEXT)
    intake.tip_route(tip_id=tip.pk)
    tip.refresh_from_db()
    assert sorted(u["unit"] for u in tip.routing_proposal["units"]) == ["housing", "police"]
    assert all(u["rule"] == rule.pk for u in tip.routing_proposal["units"])


def test_the_same_phone_and_similar_text_make_a_likely_duplicate(users, sectors, regions):
    first = make_tip(sector=sectors["construction"], region=regions["jiefang"], description=TEXT)
    unrelated = make_tip(
        sector=sectors["construction"],
        region=regions["jiefang"],
        description="某村村委会选举中有人贿选拉票。",
    )
    other_place = make_tip(
        sector=sectors["markets"],
        region=regions["xiuwu"],
        description="菜市场有人强收摊位费，联系电话 137-0391-1234。",
    )
    lead = register(
        users,
        sectors,
        regions,
        summary="群众反映黑三团伙强揽工程，电话13703911234。",
        sector="construction",
        region="jiefang",
    )
    # Every committed tip and lead is in the linking index (routing indexes the tip, registration the
    # lead); shared identifiers are found through it.
    for tip in (first, unrelated, other_place):
        entities_index_tip(tip_id=tip.pk)
    entities_index_lead(lead_id=lead.pk)
    again = make_tip(
        sector=sectors["construction"],
        region=regions["jiefang"],
        description="再次举报：解放区某建筑工程有限公司老板外号“黑三”纠集社会人员在人民路工地强揽土方，电话13703911234。",
    )
    intake.tip_route(tip_id=again.pk)
    again.refresh_from_db()
    proposal = again.routing_proposal
    duplicates = {d["id"]: d for d in proposal["duplicates"]}
    assert list(duplicates) == [first.pk]
    assert any("相同电话 137****1234" in r for r in duplicates[first.pk]["reasons"])
    assert any("内容相似度" in r for r in duplicates[first.pk]["reasons"])
    related = {(r["kind"], r["id"]) for r in proposal["related"]}
    assert ("tip", first.pk) in related
    assert ("tip", other_place.pk) in related  # the same phone, written differently, elsewhere
    assert ("lead", lead.pk) in related
    assert ("tip", unrelated.pk) not in related
    # Masked everywhere: the stored proposal never holds a full phone number.
    assert "13703911234" not in json.dumps(proposal, ensure_ascii=False)


def test_a_committed_tip_queues_its_routing_task_on_commit(
    sectors, regions, django_capture_on_commit_callbacks
):
    with mock.patch("leads.tasks.route_tip.apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tip, _pin = tip_submit(
                description=TEXT, sector=sectors["construction"], region=regions["jiefang"]
            )
        apply_async.assert_not_called()  # nothing is queued before the tip is committed
        for callback in callbacks:
            callback()
    apply_async.assert_called_once()
    assert apply_async.call_args.kwargs["kwargs"] == {"tip_id": tip.pk}


def test_submission_succeeds_when_the_routing_task_cannot_be_queued(
    sectors, regions, django_capture_on_commit_callbacks
):
    broken = mock.patch("leads.tasks.route_tip.apply_async", side_effect=OperationalError("redis down"))
    with broken, django_capture_on_commit_callbacks(execute=True):
        tip, _pin = tip_submit(description=TEXT, sector=sectors["construction"], region=regions["jiefang"])
    tip.refresh_from_db()
    assert tip.routed_at is None  # left for route_pending


def test_routing_tasks_go_to_the_routing_queue_and_escalation_to_its_own():
    router = current_app.amqp.router
    assert router.route({}, "leads.tasks.route_tip")["queue"].name == "routing"
    assert router.route({}, "leads.tasks.route_pending")["queue"].name == "routing"
    assert router.route({}, "leads.tasks.escalate_overdue")["queue"].name == "escalation"
    schedule = {entry["task"]: entry for entry in current_app.conf.beat_schedule.values()}
    assert schedule["leads.tasks.route_pending"]["schedule"] == 60.0
    assert schedule["leads.tasks.escalate_overdue"]["schedule"] == 300.0


def test_route_pending_routes_old_unrouted_tips_and_leaves_fresh_ones(sectors, regions, test_redis):
    old = [make_tip(sector=sectors["construction"], region=regions["jiefang"]) for _i in range(5)]
    Tip.objects.filter(pk__in=[t.pk for t in old]).update(
        received_at=timezone.now() - dt.timedelta(minutes=3)
    )
    fresh = make_tip(sector=sectors["construction"], region=regions["jiefang"])
    done = make_tip(sector=sectors["construction"], region=regions["jiefang"])
    Tip.objects.filter(pk=done.pk).update(
        routed_at=timezone.now(), received_at=timezone.now() - dt.timedelta(hours=1)
    )
    out = StringIO()
    call_command("route_pending", "--batch-size", "2", stdout=out)
    counts = json.loads(out.getvalue())
    assert counts["routed"] == 5 and counts["failed"] == 0
    assert Tip.objects.filter(pk__in=[t.pk for t in old], routed_at__isnull=True).count() == 0
    assert Tip.objects.get(pk=fresh.pk).routed_at is None
    assert TipEvent.objects.filter(tip_id=done.pk, kind="routed").count() == 0
    assert ops.periodic_runs()["route_pending"]["counts"]["routed"] == 5
    out = StringIO()
    call_command("route_pending", stdout=out)
    assert json.loads(out.getvalue())["routed"] == 0


def test_one_tip_that_fails_does_not_stop_the_sweep(sectors, regions):
    tips = [make_tip(sector=sectors["construction"], region=regions["jiefang"]) for _i in range(3)]
    Tip.objects.update(received_at=timezone.now() - dt.timedelta(minutes=3))
    real = intake.tip_routing_proposal

    def flaky(*, tip, **kw):
        if tip.pk == tips[1].pk:
            raise ValueError("bad data")
        return real(tip=tip, **kw)

    with mock.patch.object(intake, "tip_routing_proposal", side_effect=flaky):
        counts = intake.tip_route_pending()
    assert (counts["routed"], counts["failed"]) == (2, 1)
    assert Tip.objects.get(pk=tips[1].pk).routed_at is None


TEXTS = [
    TEXT,
    "再次举报：解放区某建筑工程有限公司老板外号“黑三”纠集社会人员在人民路工地强揽土方，电话13703911234。",
    "某村村委会选举中有人贿选拉票。",
    "ABC Trading Co. 的 Zhang San 在 No.5 仓库收“保护费”， tel 137-0391-1234 !",
    "",
    "a",
    "砂",
]


def test_trigram_similarity_is_pg_trgms(db):
    """Routing computes pg_trgm's similarity() in Python (on cached trigram sets): the same figures."""
    from django.db import connection

    with connection.cursor() as cur:
        for a in TEXTS:
            for b in TEXTS:
                cur.execute("SELECT similarity(%s, %s)", [a, b])
                expected = cur.fetchone()[0]
                got = intake.trigram_similarity(intake.trigrams(a), intake.trigrams(b))
                assert got == pytest.approx(expected, abs=1e-6), (a, b)


def test_one_routing_task_routes_the_waiting_tips_each_once_with_its_event_and_index(sectors, regions):
    tips = [
        make_tip(sector=sectors["construction"], region=regions["jiefang"], description=f"{TEXT}（第{i}次）")
        for i in range(5)
    ]
    done = make_tip(sector=sectors["construction"], region=regions["jiefang"], description=TEXT)
    Tip.objects.filter(pk=done.pk).update(routed_at=timezone.now())
    assert intake.tip_route_batch(tip_id=tips[2].pk, batch=4) == 4
    routed = set(Tip.objects.filter(routed_at__isnull=False).values_list("pk", flat=True))
    assert tips[2].pk in routed and len(routed - {done.pk}) == 4
    for tip in Tip.objects.filter(pk__in=routed - {done.pk}):
        assert TipEvent.objects.filter(tip=tip, kind="routed").count() == 1
        assert IndexState.objects.filter(kind="tip", item_id=tip.pk).exists()
        assert {"kind": "phone", "value": "137****1234"} in tip.routing_proposal["entities"]
        # The others of the batch are the likely duplicates: same phone, nearly the same text.
        assert {d["id"] for d in tip.routing_proposal["duplicates"]} >= {t.pk for t in tips} - {tip.pk}
    assert TipEvent.objects.filter(tip=done, kind="routed").count() == 0
    # The messages of the tips routed with the batch change nothing; the last waiting tip is routed.
    assert intake.tip_route_batch(tip_id=tips[0].pk) == 0
    left = Tip.objects.get(routed_at__isnull=True)
    assert intake.tip_route_batch(tip_id=left.pk) == 1
    assert TipEvent.objects.filter(kind="routed").count() == 5


def test_a_tip_whose_proposal_fails_is_left_for_the_sweep_and_the_batch_is_routed(sectors, regions):
    tips = [make_tip(sector=sectors["construction"], region=regions["jiefang"]) for _i in range(3)]
    real = intake.tip_routing_proposal

    def flaky(*, tip, **kw):
        if tip.pk == tips[1].pk:
            raise ValueError("bad data")
        return real(tip=tip, **kw)

    with mock.patch.object(intake, "tip_routing_proposal", side_effect=flaky):
        assert intake.tip_route_batch(tip_id=tips[0].pk) == 2
    assert Tip.objects.get(pk=tips[1].pk).routed_at is None
    assert TipEvent.objects.filter(tip_id=tips[1].pk).count() == 0


def test_the_trigram_cache_is_bounded_and_shares_its_strings():
    from leads.intake import _TrigramCache, trigrams

    cache = _TrigramCache(size=3, max_trigrams=10_000)
    a = cache.get("tip", 1, "工地强收保护费")
    b = cache.get("tip", 2, "强收保护费不给就打")
    assert a == (trigrams("工地强收保护费"), len(trigrams("工地强收保护费")))
    # One string object per distinct trigram, whichever text brought it.
    common = a[0] & b[0]
    assert common and all(any(g is h for h in b[0]) for g in common)
    assert cache.get("tip", 1, "工地强收保护费") == a
    cache.get("tip", 1, "改过的内容")  # a changed text is read again
    assert cache.data[("tip", 1)][1][0] == trigrams("改过的内容")
    cache.get("tip", 3, "第三条")
    cache.get("tip", 4, "第四条")  # the fourth entry drops the others
    assert len(cache.data) == 1 and len(cache.shared) == len(trigrams("第四条"))
