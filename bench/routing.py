"""Routing throughput: tips per second that one worker process routes (issue 5's route-on-arrival task).

N tips are submitted through reports.services.tip_submit while no worker runs, so their route_tip
messages wait in Redis (one per tip); then one `celery worker -Q routing --pool solo` (one process) starts.
Each tip is routed by the production code path (leads.intake.tip_route_batch): the task locks its tip and
up to LEADS ROUTING BATCH - 1 other waiting tips (SKIP LOCKED), indexes their entities for linking, applies
the routing rules, finds tips and leads sharing an identifier (entity index) and similar descriptions
(pg_trgm's similarity over the 500 most recent tips and leads of the same sector and region), writes the
proposals and timeline events, and checks for repeat reports; the messages of the tips it took find them
routed. A batch's tips share one routed_at, so the figure is (tips routed after the first batch) /
(last routed_at - first routed_at): steady-state routing, worker start-up and the first batch not counted,
every message on the queue (the no-op ones too) inside the span. Also reported: CPU time of the worker
process per tip, which does not depend on how busy the machine is (PostgreSQL's share is not in it).

Standalone, the tips go into a database of its own (`portal_bench_routing`) that holds --background
routed and indexed tips first (the candidates the searches look through); from bench/scenarios.py,
`scenario(ctx)` uses the benchmark's database with its million tips. Either way the bench's tips and what
routing wrote for them (events, entity mentions and counts, index rows, watch hits) are removed after
each run. BENCH_ROUTING_PROFILE=/path.prof runs the worker under cProfile.

    .venv/bin/python bench/routing.py --tips 2000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXTS = [
    "解放区某工地有人以“保护费”名义向施工队强行收费，不给就堵门打人，带头的外号“黑三”，电话137-0391-{n:04d}。",
    "修武县某砂场老板纠集社会闲散人员非法采砂，夜里用大货车拉砂，村民阻拦被殴打。",
    "有人在中站区菜市场强收摊位费，每个摊位每月三百元，不交就砸摊子，联系电话1390391{n:04d}。",
    "武陟县某小额贷款公司放高利贷，暴力催收，往借款人家门上泼油漆。",
    "沁阳市某村主任把持村里工程，外地施工队进不来，举报人多次反映无果。",
    "焦作市某建材有限公司垄断混凝土供应，其他搅拌站的车进不了工地，司机被打伤。",
]
SECTORS = ["construction", "mining", "markets", "lending", "grassroots", "construction"]
REGIONS = ["jiefang", "xiuwu", "zhongzhan", "wuzhi", "qinyang", "jiefang"]


def log(message: str) -> None:
    print(f"[bench-routing {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the parent ----------------------------------------------------------------------------------
def run_child(env: dict, *, tips: int, background: int, migrate: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__)), "--one", "--tips", str(tips), "--background", str(background)]
    if migrate:
        cmd.append("--migrate")
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"routing bench failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(*, tips: int = 1000, background: int = 100_000) -> dict:
    """Standalone: its own database on DATABASE_URL's server (or the embedded one)."""
    from bench.escalation import ensure_database, server_urls
    from bench.run import bench_env

    db_url, redis_url = server_urls()
    ensure_database(db_url, "portal_bench_routing", False)
    env = bench_env(urlunsplit(urlsplit(db_url)._replace(path="/portal_bench_routing")), redis_url)
    return run_child(env, tips=tips, background=background, migrate=True)


GOAL = 200  # tips per second per worker process (issue 10)


def row_for(result: dict, *, runs: list[dict] | None = None) -> dict:
    runs = runs or [result]
    rates = ", ".join(f"{r['tips_per_s']:.0f}" for r in runs if r["tips_per_s"])
    cpu = result.get("worker_cpu_ms_per_tip")
    note = (
        f"median of {len(runs)} runs ({rates} tips/s); worker CPU {cpu} ms per tip"
        + f"; {result['duplicates']} of {result['tips']} routed with a likely duplicate, "
        f"{result['related']} with related items, {result['events']} timeline events"
    )
    if result.get("other_unrouted"):
        note += f"; {result['other_unrouted']} other unrouted tips were in the database (routed too)"
    if result.get("repeat_reports"):
        note += f"; {result['repeat_reports']} repeat reports flagged on closed leads (left in place)"
    return {
        "what": f"routing throughput, one worker process (solo pool), {result['candidates']:,} tips in the database",
        "measured": f"{result['tips_per_s']:.0f} tips/s ({result['ms_per_tip']:.1f} ms per tip; {result['tips']} tips)",
        "goal": f"≥ {GOAL} tips/s per worker process",
        "met": (result["tips_per_s"] or 0) >= GOAL,
        "note": note,
    }


def median_result(results: list[dict]) -> dict:
    ordered = sorted(results, key=lambda r: r["tips_per_s"] or 0)
    return ordered[len(ordered) // 2]


def scenario(ctx) -> list[dict]:
    """For bench/scenarios.py: on the benchmark's database (a million tips), --runs runs of 1,000 tips
    (300 with --quick); every run removes its tips and what routing wrote for them."""
    tips = 300 if getattr(ctx.args, "quick", False) else 1000
    results = []
    for i in range(max(1, getattr(ctx.args, "runs", 3))):
        ctx.log(f"routing run {i + 1}: {tips} tips")
        results.append(run_child(ctx.env, tips=tips, background=0, migrate=False))
    return [row_for(median_result(results), runs=results)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1000)
    parser.add_argument("--background", type=int, default=100_000, help="routed tips to search through")
    parser.add_argument("--runs", type=int, default=1, help="runs (the median is reported)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(tips=args.tips, background=args.background, migrate=args.migrate)))
        return 0
    results = [measure(tips=args.tips, background=args.background) for _i in range(args.runs)]
    result = median_result(results)
    if args.json:
        print(json.dumps({**result, "runs": results} if args.runs > 1 else result, indent=2))
        return 0
    r = row_for(result, runs=results)
    print(
        f"| what | measured | goal | met | note |\n| --- | --- | --- | --- | --- |\n"
        f"| {r['what']} | {r['measured']} | {r['goal']} | {'yes' if r['met'] else '**no**'} | {r['note']} |"
    )
    return 0


# --- the child: Django on the chosen database ----------------------------------------------------
def _one(*, tips: int, background: int, migrate: bool) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from campaign.demo import seed_campaign
    from campaign.models import Region, Sector
    from reports.models import Tip

    if migrate:
        call_command("migrate", "--noinput", verbosity=0)
        seed_campaign()
    if background:
        _background(background)
    _purge_routing_queue()
    # The worker routes every waiting tip, not only the bench's: say so when there were others.
    other_unrouted = Tip.objects.filter(routed_at__isnull=True).count()
    sectors = {s.code: s for s in Sector.objects.filter(code__in=SECTORS)}
    regions = {r.code: r for r in Region.objects.filter(code__in=REGIONS)}
    log(f"submitting {tips} tips (their routing waits in Redis)")
    ids: list[int] = []
    try:
        return _submit_and_measure(
            ids, tips=tips, sectors=sectors, regions=regions, other_unrouted=other_unrouted
        )
    finally:
        _cleanup(ids)  # leave the database as it was found, whatever happened


def _submit_and_measure(ids: list[int], *, tips: int, sectors, regions, other_unrouted: int) -> dict:
    from leads.models import RepeatReport
    from reports.models import Tip, TipEvent
    from reports.services import tip_submit

    for i in range(tips):
        tip, _pin = tip_submit(
            description=TEXTS[i % len(TEXTS)].format(n=i % 10000) + f"（编号 R{i}）",
            sector=sectors[SECTORS[i % len(SECTORS)]],
            region=regions[REGIONS[i % len(REGIONS)]],
            location="人民路与建设路交叉口",
        )
        ids.append(tip.pk)
    candidates = Tip.objects.count()
    # BENCH_ROUTING_PROFILE=/path/file.prof: the worker runs under cProfile (read with pstats).
    profile = os.environ.get("BENCH_ROUTING_PROFILE")
    worker = subprocess.Popen(
        [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), "-m", "celery"]
        + ["-A", "config", "worker", "-Q", "routing", "--pool", "solo"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        pending = Tip.objects.filter(pk__in=ids, routed_at__isnull=True)
        deadline = time.monotonic() + max(600, tips * 2)
        cpu_start = None  # (worker CPU seconds, tips left) once routing has begun: start-up not counted
        while left := pending.count():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"{left} tips not routed (worker exit {worker.poll()})")
            if cpu_start is None and left < tips:
                cpu_start = (_cpu_seconds(worker.pid), left)
            time.sleep(0.05 if cpu_start is None else 0.5)
        cpu_end = _cpu_seconds(worker.pid)
    finally:
        worker.send_signal(signal.SIGINT if profile else signal.SIGTERM)  # SIGINT: the profile is written
        worker.wait(30)
    routed = list(Tip.objects.filter(pk__in=ids).values_list("routed_at", "routing_proposal"))
    times = sorted(r[0] for r in routed)
    span = (times[-1] - times[0]).total_seconds()
    # A batch's tips share one routed_at (the worker routes waiting tips in batches): the span runs from
    # the end of the first batch, so the tips counted are those routed after it.
    after_first = sum(1 for t in times if t > times[0])
    routed_events = TipEvent.objects.filter(tip_id__in=ids, kind="routed").count()
    repeats = RepeatReport.objects.filter(tip_id__in=ids).count()
    result = {
        "tips": tips,
        "candidates": candidates,
        "tips_per_s": round(after_first / span, 1) if span > 0 else None,
        "ms_per_tip": round(span * 1000 / max(after_first, 1), 1),
        # CPU time of the worker process per tip, from the first routed tip on: the work itself,
        # whatever the machine's load (the wall-clock figure includes waiting for a core).
        "worker_cpu_ms_per_tip": (
            round((cpu_end - cpu_start[0]) * 1000 / cpu_start[1], 2)
            if cpu_start and cpu_start[0] is not None and cpu_end is not None
            else None
        ),
        "first_batch": tips - after_first,
        "duplicates": sum(1 for _t, p in routed if p.get("duplicates")),
        "related": sum(1 for _t, p in routed if p.get("related")),
        "events": routed_events,
        "repeat_reports": repeats,  # leads closed as 查否 flagged by the bench's tips (left flagged)
        "other_unrouted": other_unrouted,
    }
    return result


def _cleanup(ids: list[int]) -> None:
    """Remove the bench's tips and what routing wrote for them: events, entity mentions (with their
    entities' counts), index rows, key-monitoring hits."""
    from django.db import connection, transaction

    from campaign.models import Notification
    from reports.models import Tip

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            WITH gone AS (DELETE FROM linking_entitymention WHERE tip_id = ANY(%s) RETURNING entity_id)
            UPDATE linking_entity e SET mention_count = GREATEST(e.mention_count - g.n, 0)
            FROM (SELECT entity_id, count(*) AS n FROM gone GROUP BY entity_id) g WHERE e.id = g.entity_id
            """,
            [ids],
        )
        cur.execute("DELETE FROM linking_indexstate WHERE kind = 'tip' AND item_id = ANY(%s)", [ids])
        cur.execute(
            f"DELETE FROM {Notification._meta.db_table} WHERE dedupe_key IN ("  # noqa: S608
            "SELECT 'watch-hit:' || id FROM linking_watchhit WHERE item_kind = 'tip' AND item_id = ANY(%s))"
            " OR dedupe_key IN (SELECT 'repeat:' || lead_id || ':' || tip_id FROM leads_repeatreport"
            " WHERE tip_id = ANY(%s))",
            [ids, ids],
        )
        cur.execute("DELETE FROM linking_watchhit WHERE item_kind = 'tip' AND item_id = ANY(%s)", [ids])
        Tip.objects.filter(pk__in=ids).delete()


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _purge_routing_queue() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("routing")


def _background(count: int) -> None:
    """Routed tips for the similarity searches to look through (made once, kept between runs)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.escalation import _insert_select
    from campaign.models import Region, Sector
    from reports.models import Tip

    have = Tip.objects.filter(tracking_code__startswith="BG").count()
    if have >= count:
        _background_index()
        return
    log(f"making {count:,} background tips")
    sectors = [Sector.objects.get(code=c).pk for c in SECTORS]
    regions = [Region.objects.get(code=c).pk for c in REGIONS]
    texts = [t.replace("{n:04d}", "{n}") for t in TEXTS]
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM reports_tipevent WHERE tip_id IN (SELECT id FROM reports_tip WHERE tracking_code LIKE 'BG%%')"
        )
        cur.execute("DELETE FROM reports_tip WHERE tracking_code LIKE 'BG%%'")
        _insert_select(
            cur,
            Tip,
            f"generate_series(1, {count}) AS g(i)",
            {
                "tracking_code": "'BG' || lpad(g.i::text, 10, '0')",
                "pin_hash": "'-'",
                "description": (
                    "replace((%s::text[])[1 + mod(g.i, %s)], '{n}', lpad(mod(g.i::bigint * 7919, 10000)::text, 4, '0'))"
                    " || '（背景 ' || g.i || '）'",
                    [texts, len(texts)],
                ),
                "sector_id": (f"(ARRAY{sectors}::bigint[])[1 + mod(g.i, {len(sectors)})]", []),
                "region_id": (f"(ARRAY{regions}::bigint[])[1 + mod(g.i, {len(regions)})]", []),
                "received_at": ("%s::timestamptz - mod(g.i, 365) * interval '1 day'", [now]),
                "routed_at": ("%s::timestamptz", [now]),
            },
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE reports_tip")
    _background_index()


def _background_index() -> None:
    """Index the background tips' entities, as every tip is in production (the routing searches tips that
    share an identifier through the linking index)."""
    from leads.linking.indexing import index_batch, unindexed_ids
    from leads.linking.models import ItemKind

    after, done = 0, 0
    while ids := unindexed_ids(ItemKind.TIP, after=after, limit=2000):
        index_batch(ItemKind.TIP, ids)
        after, done = ids[-1], done + len(ids)
        if done % 20000 < 2000:
            log(f"indexed {done:,} background tips")


if __name__ == "__main__":
    sys.exit(main())
