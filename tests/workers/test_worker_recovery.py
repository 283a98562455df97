"""Nothing lost, nothing doubled: real worker processes, real Redis (issue 5's done-when list).

- A worker killed (SIGKILL) in the middle of a routing task: the task runs again after restart and the
  tip is routed exactly once.
- Redis stopped while tips are submitted: submissions succeed; when Redis returns, route_pending (sent
  through the restored broker to a real worker) routes every one of them.
"""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F

from leads.tasks import route_pending, route_tip
from reports.models import Tip, TipEvent
from reports.services import tip_submit

from ..conftest import ROOT, _test_database_url, wait_for

pytestmark = pytest.mark.slow

TEXT = "中站区某砂场老板纠集社会闲散人员非法采砂，夜里用大货车拉砂，村民阻拦被殴打，电话13903910001。"


def _locked(tip_id: int) -> bool:
    """True while another transaction (the routing task) holds the tip's row lock."""
    try:
        with transaction.atomic():
            list(Tip.objects.select_for_update(nowait=True).filter(pk=tip_id).values_list("pk"))
    except DatabaseError:
        return True
    return False


def _routed_events(tip_id: int) -> int:
    return TipEvent.objects.filter(tip_id=tip_id, kind="routed").count()


def test_a_worker_killed_mid_routing_runs_the_task_again_and_routes_the_tip_once(
    celery_worker_process, sectors, regions, test_redis
):
    visibility = {"CELERY_VISIBILITY_TIMEOUT": "4"}
    slow = celery_worker_process(queues="routing", extra_env={**visibility, "ROUTING_TEST_DELAY": "120"})
    tip, _pin = tip_submit(description=TEXT, sector=sectors["mining"], region=regions["zhongzhan"])

    # The worker took the message and is inside the routing transaction (holding the tip's lock).
    wait_for(lambda: _locked(tip.pk), timeout=60, interval=0.2)
    delivered = time.monotonic()
    assert test_redis.hlen("unacked") == 1  # late ack: the message is not acknowledged yet
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait(10)

    # The killed transaction rolled back; the message is still owed.
    wait_for(lambda: not _locked(tip.pk), timeout=30)
    tip.refresh_from_db()
    assert tip.routed_at is None and _routed_events(tip.pk) == 0
    assert test_redis.hlen("unacked") == 1

    # After the visibility timeout, a restarted worker gets the same message again and routes the tip.
    time.sleep(max(0.0, 5 - (time.monotonic() - delivered)))
    celery_worker_process(queues="routing", extra_env=visibility)
    wait_for(lambda: Tip.objects.get(pk=tip.pk).routed_at, timeout=90, interval=0.3)
    tip.refresh_from_db()
    routed_at = tip.routed_at
    assert _routed_events(tip.pk) == 1
    assert tip.routing_proposal["units"][0]["unit"] == sectors["mining"].lead_unit.code
    wait_for(lambda: test_redis.hlen("unacked") == 0, timeout=30)

    # A duplicate delivery changes nothing.
    route_tip.apply_async(kwargs={"tip_id": tip.pk})
    wait_for(lambda: test_redis.llen("routing") == 0 and test_redis.hlen("unacked") == 0, timeout=30)
    time.sleep(1)
    tip.refresh_from_db()
    assert tip.routed_at == routed_at and _routed_events(tip.pk) == 1


# --- Redis down ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on its own port, so stopping it disturbs no other test or helper."""

    def __init__(self, port: int, workdir):
        self.port, self.workdir, self.proc = port, workdir, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._ping(client), timeout=20)

    @staticmethod
    def _ping(client) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    if not os.path.exists("/usr/bin/redis-server"):
        pytest.skip("needs /usr/bin/redis-server")
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


SUBMIT = """
import json, time, django
django.setup()
from django.test import Client
client = Client(SERVER_NAME="localhost")
out = []
for i in range(5):
    started = time.monotonic()
    r = client.post(
        "/api/v1/public/tips/",
        {"description": f"{TEXT}（第{i + 1}次反映）", "sector": "mining", "region": "zhongzhan"},
        content_type="application/json",
    )
    out.append({"status": r.status_code, "seconds": time.monotonic() - started,
                "tracking_code": r.json().get("tracking_code")})
print("RESULT " + json.dumps(out))
"""


def test_tips_submitted_while_redis_is_down_are_routed_by_route_pending_when_it_returns(
    celery_worker_process, sectors, regions, private_redis
):
    broker = urlunsplit(urlsplit(settings.REDIS_URL)._replace(netloc=f"127.0.0.1:{private_redis.port}"))
    celery_worker_process(queues="routing,default", extra_env={"REDIS_URL": broker})
    private_redis.stop()

    # A web process whose Redis (cache, broker) is down takes five public submissions.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": broker,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", f"TEXT = {TEXT!r}\n" + SUBMIT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, done.stderr[-3000:]
    results = json.loads(line.removeprefix("RESULT "))
    assert [r["status"] for r in results] == [201] * 5, results
    assert max(r["seconds"] for r in results) < 10  # Redis being down does not hang the informant
    codes = [r["tracking_code"] for r in results]
    tips = Tip.objects.filter(tracking_code__in=codes)
    assert tips.count() == 5
    assert tips.filter(routed_at__isnull=True).count() == 5

    # Redis returns, empty: the routing messages were never published, so nothing routes the tips …
    private_redis.start()
    time.sleep(3)
    assert tips.filter(routed_at__isnull=True).count() == 5

    # … until the beat's route_pending runs on a worker. (Tips count as pending 30 s after arrival.)
    Tip.objects.filter(tracking_code__in=codes).update(received_at=F("received_at") - dt.timedelta(minutes=2))
    with current_app.connection_for_write(broker) as conn:
        route_pending.apply_async(connection=conn)
    wait_for(lambda: not tips.filter(routed_at__isnull=True).exists(), timeout=120, interval=0.5)
    for tip in tips:
        assert _routed_events(tip.pk) == 1
        assert tip.routing_proposal["units"]
    # Each later submission is a likely duplicate of the earlier ones (same phone, same wording).
    last = tips.order_by("-id").first()
    assert len(last.routing_proposal["duplicates"]) >= 1


# --- two workers ---------------------------------------------------------------------------------
def test_two_workers_routing_in_batches_route_and_index_every_tip_exactly_once(
    celery_worker_process, sectors, regions, test_redis
):
    """Each routing task takes its tip and other waiting ones (SKIP LOCKED): with two workers taking
    messages at once, every tip is still routed once, with one event and one index row."""
    from leads.linking.models import Entity, IndexState

    celery_worker_process(queues="routing")
    celery_worker_process(queues="routing")
    tips, submitted = [], {}
    for i in range(40):
        tip, _pin = tip_submit(
            description=f"{TEXT}（第{i + 1}次反映）", sector=sectors["mining"], region=regions["zhongzhan"]
        )
        tips.append(tip.pk)
        submitted[tip.pk] = tip.version  # as committed, before any worker touched it
    pending = Tip.objects.filter(pk__in=tips, routed_at__isnull=True)
    wait_for(lambda: not pending.exists(), timeout=120, interval=0.5)
    wait_for(lambda: test_redis.llen("routing") == 0 and test_redis.hlen("unacked") == 0, timeout=60)
    assert TipEvent.objects.filter(tip_id__in=tips, kind="routed").count() == 40
    assert IndexState.objects.filter(kind="tip", item_id__in=tips).count() == 40
    assert Entity.objects.get(kind="phone", value="13903910001").mention_count == 40
    for tip in Tip.objects.filter(pk__in=tips):
        assert tip.version == submitted[tip.pk] + 1 and tip.routing_proposal["units"]
