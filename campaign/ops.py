"""Health of the moving parts: database, Redis, workers, queues, periodic tasks."""

import contextlib
import json
import time

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

QUEUES = ("default", "routing", "escalation", "mail")
HEARTBEAT_KEY = "ops:worker-heartbeat"
PERIODIC_KEY = "ops:periodic"


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def heartbeat_record() -> None:
    redis_client().set(HEARTBEAT_KEY, str(time.time()), ex=3600)


def ping_record(token: str) -> None:
    redis_client().set(f"ops:ping:{token}", str(time.time()), ex=300)


def periodic_record(name: str, **counts) -> None:
    """Remember the last run of a periodic task and what it did, for the ops page."""
    payload = {"at": timezone.now().isoformat(), "counts": counts}
    with contextlib.suppress(redis.RedisError):
        redis_client().hset(PERIODIC_KEY, name, json.dumps(payload))


def periodic_runs() -> dict[str, dict]:
    try:
        raw = redis_client().hgetall(PERIODIC_KEY)
    except redis.RedisError:
        return {}
    return {k.decode(): json.loads(v) for k, v in sorted(raw.items())}


def health() -> tuple[dict, bool]:
    """The state of each part; the bool is False when the database (the one thing we cannot do without) is down."""
    report: dict = {}
    db_ok = True
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        report["database"] = {"ok": True}
    except Exception as exc:
        db_ok = False
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        client = redis_client()
        client.ping()
        report["redis"] = {"ok": True}
        beat = client.get(HEARTBEAT_KEY)
        age = time.time() - float(beat) if beat else None
        report["workers"] = {
            "ok": age is not None and age < settings.WORKER_HEARTBEAT_MAX_AGE,
            "last_heartbeat_seconds_ago": round(age, 1) if age is not None else None,
            "queues": {q: client.llen(q) for q in QUEUES},
        }
    except redis.RedisError as exc:
        report["redis"] = {"ok": False, "error": exc.__class__.__name__}
        report["workers"] = {"ok": False, "error": "redis unavailable"}
    report["status"] = (
        "ok"
        if all(p.get("ok") for p in report.values() if isinstance(p, dict))
        else ("degraded" if db_ok else "down")
    )
    return report, db_ok
