"""Two people at once, on two real database connections: one wins, the other gets a conflict; nothing is
half-applied."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from leads.models import Lead, LeadEvent
from leads.services import lead_transition
from leads.workflow import TransitionError, VersionConflict

from ..conftest import wait_for
from .factories import register

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target, results, key, barrier=None):
    def run():
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
            results[key] = ("ok", target())
        except (VersionConflict, TransitionError) as exc:
            results[key] = (type(exc).__name__, exc)
        except Exception as exc:  # surfaced by the assertions below
            results[key] = ("error", exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting_on_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cur.fetchone()[0] > 0


def test_second_writer_waits_for_the_lock_then_gets_a_version_conflict(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing", "transport"])
    seen = lead.version
    locked = threading.Event()
    release = threading.Event()
    results: dict = {}

    def first():
        # Holds the row lock while the second request arrives, then applies its action and commits.
        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=lead.pk)
            locked.set()
            release.wait(timeout=20)
            return lead_transition(
                lead_id=lead.pk,
                action="assign",
                actor=users["office"],
                units=["market"],
                expected_version=seen,
            )

    def second():
        locked.wait(timeout=20)
        return lead_transition(
            lead_id=lead.pk,
            action="reassign",
            actor=users["office"],
            unit="housing",
            units=["police"],
            expected_version=seen,
        )

    t1 = _in_thread(first, results, "first")
    locked.wait(timeout=20)
    t2 = _in_thread(second, results, "second")
    wait_for(_waiting_on_lock, timeout=20)  # the second connection really is blocked on the row lock
    release.set()
    t1.join(30)
    t2.join(30)
    assert results["first"][0] == "ok", results
    assert results["second"][0] == "VersionConflict", results
    conflict = results["second"][1]
    assert conflict.lead.version == seen + 1
    assert "已被他人更新" in conflict.message
    lead.refresh_from_db()
    assert lead.version == seen + 1
    assert list(lead.assignments.values_list("unit__code", "status").order_by("id")) == [
        ("housing", "assigned"),
        ("transport", "assigned"),
        ("market", "assigned"),
    ]
    assert not LeadEvent.objects.filter(lead=lead, action="reassign").exists()


@pytest.mark.parametrize("round_", range(3))
def test_two_liaisons_signing_for_at_once_one_wins(users, sectors, regions, round_):
    lead = register(users, sectors, regions, units=["housing"])
    seen = lead.version
    barrier = threading.Barrier(2)
    results: dict = {}

    def accept():
        return lead_transition(
            lead_id=lead.pk, action="accept", actor=users["liaison_housing"], expected_version=seen
        )

    threads = [_in_thread(accept, results, k, barrier) for k in ("a", "b")]
    for t in threads:
        t.join(30)
    outcomes = sorted(r[0] for r in results.values())
    assert outcomes == ["VersionConflict", "ok"], results
    lead.refresh_from_db()
    assert lead.version == seen + 1
    assert LeadEvent.objects.filter(lead=lead, action="accept").count() == 1


def test_without_a_version_the_loser_is_refused_by_the_workflow(users, sectors, regions):
    lead = register(users, sectors, regions, units=["housing"])
    barrier = threading.Barrier(2)
    results: dict = {}

    def accept():
        return lead_transition(lead_id=lead.pk, action="accept", actor=users["liaison_housing"])

    threads = [_in_thread(accept, results, k, barrier) for k in ("a", "b")]
    for t in threads:
        t.join(30)
    assert sorted(r[0] for r in results.values()) == ["TransitionError", "ok"], results
    loser = next(r[1] for r in results.values() if r[0] == "TransitionError")
    assert loser.message == "贵单位没有待签收的分办任务。"
    assert LeadEvent.objects.filter(lead=lead, action="accept").count() == 1


def test_concurrent_registrations_never_share_a_number(users, sectors, regions):
    barrier = threading.Barrier(4)
    results: dict = {}

    def reg():
        time.sleep(0)
        return register(users, sectors, regions).number

    threads = [_in_thread(reg, results, k, barrier) for k in range(4)]
    for t in threads:
        t.join(30)
    numbers = [r[1] for r in results.values() if r[0] == "ok"]
    assert len(numbers) == 4, results
    assert len(set(numbers)) == 4
