"""Benchmark: related-item suggestions (串并) for a new tip, at the data set's size (goal < 100 ms server time).

Inside the portal, on the current database:

    .venv/bin/python manage.py shell -c "from bench.linking import main; main()"

Each sample submits a realistic new tip (an existing tip's sentences reordered, in its sector, region and
place; every third one naming a phone number already in the index, every fifth a company), indexes it as the intake worker does, then times
`related_for_tip` and the whole API view (GET /api/v1/tips/{id}/related/ without the network: DRF view,
scoping, serialisation). Everything runs in one transaction that is rolled back, so the data set is left
as it was. `linking_suggestions(ctx)` is the row for bench/scenarios.py.
"""

from __future__ import annotations

import json
import random
import statistics
import time


class _Rollback(Exception):
    pass


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _backend_cpu_ms(connection) -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend (same host only; else None).

    Wall-clock figures on a shared 2-core machine include waiting for a core; CPU time is the work itself.
    """
    import os

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(*, samples: int = 40, seed: int = 8, warmup: int = 3) -> dict:
    """Time suggestions for `samples` new tips; returns milliseconds (p50, p95, max) and context."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory, force_authenticate

    from campaign.models import User
    from leads.linking.api.views import RelatedView
    from leads.linking.selectors import related_for_tip
    from leads.linking.services import entities_index_tip
    from reports.models import Tip
    from reports.services import tip_submit

    rng = random.Random(seed)
    office = User.objects.filter(role="office", is_active=True).order_by("pk").first()
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM reports_tip")
        low, high = cur.fetchone()
        cur.execute("SELECT value FROM linking_entity WHERE kind = 'phone' ORDER BY id DESC LIMIT 500")
        phones = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT value FROM linking_entity WHERE kind = 'company' AND mention_count BETWEEN 2 AND 50 LIMIT 500"
        )
        companies = [r[0] for r in cur.fetchall()]
    view = RelatedView.as_view(kind="tip")
    factory = APIRequestFactory()
    selector_ms: list[float] = []
    api_ms: list[float] = []
    cpu_ms: list[float] = []
    queries: list[int] = []
    found: list[int] = []
    load_before = _loadavg()
    try:
        with transaction.atomic():
            for i in range(samples + warmup):
                # A new tip written like the existing ones: an existing tip's sentences reordered, with its
                # sector, region and place (what a second report of the same matter looks like).
                model = None
                while model is None:
                    model = Tip.objects.filter(pk__gte=rng.randint(low, high)).order_by("pk").first()
                sentences = [x for x in model.description.split("。") if x]
                rng.shuffle(sentences)
                description = "。".join(sentences) + "。"
                accused, location = model.accused, model.location
                sector, region = model.sector, model.region
                if phones and i % 3 == 0:
                    p = rng.choice(phones)
                    description += f"他的电话是{p[:3]}-{p[3:7]}-{p[7:]}。"
                if companies and i % 5 == 0:
                    description += f"背后是{rng.choice(companies)}。"
                tip, _pin = tip_submit(
                    description=description,
                    channel="phone",
                    sector=sector,
                    region=region,
                    accused=accused,
                    location=location,
                    created_by=office,
                )
                entities_index_tip(tip_id=tip.pk, alert=False)
                tip = Tip.objects.get(pk=tip.pk)
                db_cpu = _backend_cpu_ms(connection)
                py_cpu = time.process_time()
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as ctx:
                    related = related_for_tip(tip=tip, user=office)
                took = (time.perf_counter() - started) * 1000
                py_cpu = (time.process_time() - py_cpu) * 1000
                db_after = _backend_cpu_ms(connection)
                request = factory.get(f"/api/v1/tips/{tip.pk}/related/")
                force_authenticate(request, user=office)
                started = time.perf_counter()
                response = view(request, pk=tip.pk)
                response.render()
                api_took = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                if i < warmup:
                    continue
                selector_ms.append(took)
                cpu_ms.append(
                    py_cpu + (db_after - db_cpu if db_cpu is not None and db_after is not None else 0)
                )
                api_ms.append(api_took)
                queries.append(len(ctx.captured_queries))
                found.append(len(related.items))
            raise _Rollback
    except _Rollback:
        pass
    tips = Tip.objects.count()
    return {
        "tips": tips,
        "samples": len(selector_ms),
        "selector_p50_ms": round(statistics.median(selector_ms), 1),
        "selector_p95_ms": round(_pct(selector_ms, 0.95), 1),
        "selector_max_ms": round(max(selector_ms), 1),
        "api_p50_ms": round(statistics.median(api_ms), 1),
        "api_p95_ms": round(_pct(api_ms, 0.95), 1),
        "api_max_ms": round(max(api_ms), 1),
        # CPU time (Django process + PostgreSQL backend) of related_for_tip: the work without the wait for
        # a core; clock ticks are 10 ms, so single samples are coarse but the median is fair.
        "cpu_p50_ms": round(statistics.median(cpu_ms), 1),
        "cpu_p95_ms": round(_pct(cpu_ms, 0.95), 1),
        "load_average": [load_before, _loadavg()],
        "queries_max": max(queries),
        "items_avg": round(sum(found) / len(found), 1),
    }


def _loadavg() -> float | None:
    import os

    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return None


def main() -> None:
    result = measure()
    print(
        f"suggestions for a new tip at {result['tips']} tips, {result['samples']} samples: "
        f"selector p50 {result['selector_p50_ms']} ms, p95 {result['selector_p95_ms']} ms, "
        f"max {result['selector_max_ms']} ms; API view p50 {result['api_p50_ms']} ms, "
        f"p95 {result['api_p95_ms']} ms; CPU p50 {result['cpu_p50_ms']} ms, p95 {result['cpu_p95_ms']} ms; "
        f"{result['queries_max']} queries; {result['items_avg']} items on average; "
        f"load average {result['load_average'][0]} → {result['load_average'][1]}"
    )
    print(json.dumps(result))


def linking_suggestions(ctx) -> list[dict]:
    """The row for bench/scenarios.py (runs `measure` inside the portal with the bench settings)."""
    from bench.scenarios import django_eval, row

    what = "suggestions for a new tip (related_for_tip + API view), in-process"
    goal = "p95 < 100 ms server time"
    result = django_eval(ctx, "import json; from bench.linking import measure; print(json.dumps(measure()))")
    return [
        row(
            what,
            f"p50 {result['api_p50_ms']} ms, p95 {result['api_p95_ms']} ms at {result['tips']} tips "
            f"({result['queries_max']} queries)",
            goal,
            result["api_p95_ms"] < 100,
        )
    ]


if __name__ == "__main__":
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    main()
