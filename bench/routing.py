"""Routing throughput: tips per second that one worker process routes (issue 5's route-on-arrival task).

N tips are submitted through reports.services.tip_submit while no worker runs, so their route_tip
messages wait in Redis; then one `celery worker -Q routing --pool solo` (one process) starts and the
figure is (N - 1) / (last routed_at - first routed_at): steady-state routing, without worker start-up.
Each tip is routed by the production code path (leads.intake.tip_route): lock, routing rules, entity
extraction, trigram searches for duplicates and related tips and leads, the write and its event.

Standalone, the tips go into a database of its own (`portal_bench_routing`) that holds --background
routed tips first (the candidates the similarity searches look through); from bench/scenarios.py,
`scenario(ctx)` uses the benchmark's database with its million tips and removes its tips afterwards.

    .venv/bin/python bench/routing.py --tips 1000
"""

from __future__ import annotations

import argparse
import json
import os
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


def row_for(result: dict) -> dict:
    return {
        "what": f"routing throughput, one worker process (solo pool), {result['candidates']:,} tips in the database",
        "measured": f"{result['tips_per_s']:.1f} tips/s ({result['ms_per_tip']:.0f} ms per tip; {result['tips']} tips)",
        # DESIGN.md: millions of tips a year for a province; 3 million a year with a tenth of a day's
        # tips in the peak hour is ~0.25 tips/s, so one worker process should keep up four times over.
        "goal": "≥ 1 tip/s per worker process",
        "met": (result["tips_per_s"] or 0) >= 1,
        "note": f"{result['duplicates']} routed with a likely duplicate, {result['related']} with related items",
    }


def scenario(ctx) -> list[dict]:
    """For bench/scenarios.py: on the benchmark's own database (a million tips); cleans up after itself."""
    return [row_for(run_child(ctx.env, tips=500, background=0, migrate=False))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1000)
    parser.add_argument("--background", type=int, default=100_000, help="routed tips to search through")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(tips=args.tips, background=args.background, migrate=args.migrate)))
        return 0
    result = measure(tips=args.tips, background=args.background)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    r = row_for(result)
    print(
        f"| what | measured | goal | met |\n| --- | --- | --- | --- |\n| {r['what']} | {r['measured']} | {r['goal']} | {'yes' if r['met'] else '**no**'} |"
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
    from reports.services import tip_submit

    if migrate:
        call_command("migrate", "--noinput", verbosity=0)
        seed_campaign()
    if background:
        _background(background)
    _purge_routing_queue()
    sectors = {s.code: s for s in Sector.objects.filter(code__in=SECTORS)}
    regions = {r.code: r for r in Region.objects.filter(code__in=REGIONS)}
    log(f"submitting {tips} tips (their routing waits in Redis)")
    ids = []
    for i in range(tips):
        tip, _pin = tip_submit(
            description=TEXTS[i % len(TEXTS)].format(n=i % 10000) + f"（编号 R{i}）",
            sector=sectors[SECTORS[i % len(SECTORS)]],
            region=regions[REGIONS[i % len(REGIONS)]],
            location="人民路与建设路交叉口",
        )
        ids.append(tip.pk)
    candidates = Tip.objects.count()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "routing", "--pool", "solo"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        pending = Tip.objects.filter(pk__in=ids, routed_at__isnull=True)
        deadline = time.monotonic() + max(600, tips * 2)
        while pending.exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"{pending.count()} tips not routed (worker exit {worker.poll()})")
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(30)
    routed = list(Tip.objects.filter(pk__in=ids).values_list("routed_at", "routing_proposal"))
    times = sorted(r[0] for r in routed)
    span = (times[-1] - times[0]).total_seconds()
    result = {
        "tips": tips,
        "candidates": candidates,
        "tips_per_s": round((tips - 1) / span, 1) if span > 0 else None,
        "ms_per_tip": round(span * 1000 / max(tips - 1, 1), 1),
        "duplicates": sum(1 for _t, p in routed if p.get("duplicates")),
        "related": sum(1 for _t, p in routed if p.get("related")),
    }
    Tip.objects.filter(pk__in=ids).delete()  # leave the database as it was found
    return result


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


if __name__ == "__main__":
    sys.exit(main())
