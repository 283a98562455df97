"""The benchmark rows. Each function measures one row of docs/benchmarks.md's table (issue 10's list).

A row whose feature is not in the portal yet says so ("not built") instead of inventing a number.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.run import BASE, PY, ROOT


@dataclass
class Context:
    db_url: str
    env: dict
    args: Any
    log: Any
    wrk: Any
    median_runs: Any
    raw_insert_rate: Any
    sql_value: Any
    manage: Any
    server: Any = None
    limits: dict = field(default_factory=dict)
    explains: list = field(default_factory=list)

    def runs(self, fn):
        return self.median_runs(fn, self.args.runs)


def row(what, measured, goal, met, note=""):
    return {"what": what, "measured": measured, "goal": goal, "met": met, "note": note}


def not_built(what, goal, why):
    return row(what, "not built", goal, None, why)


def django_eval(ctx: Context, code: str) -> Any:
    """Run Python inside the portal (bench settings) and return the JSON it prints last."""
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=ctx.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "shell failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def http_json(
    method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        BASE + path,
        data=data,
        method=method,  # noqa: S310 — loopback only
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


# --- machine limits ---------------------------------------------------------------------------------
def machine_limits(ctx: Context) -> list[dict]:
    bare = ctx.runs(lambda: ctx.wrk("/bench/ok", seconds=ctx.args.seconds))
    raw = ctx.runs(lambda: ctx.raw_insert_rate(ctx.db_url))
    ctx.limits = {"bare_rps": bare["rps"], "raw_rows": raw["rows_per_s"]}
    return [
        row(
            "machine: bare Django view (same gunicorn), c=8",
            f"{bare['rps']:.0f} req/s, p95 {bare['p95_ms']:.1f} ms",
            "reference",
            None,
        ),
        row(
            "machine: raw INSERT of a tip-sized row (psycopg, 1 conn)",
            f"{raw['rows_per_s']:.0f} rows/s",
            "reference",
            None,
        ),
    ]


# --- public side -----------------------------------------------------------------------------------
TEXTS = [
    "解放区某工地有人以“保护费”名义向施工队强行收费，不给就堵门打人，带头的外号“黑三”，电话137-0391-{n:04d}。",
    "修武县某砂场老板纠集社会闲散人员非法采砂，夜里用大货车拉砂，村民阻拦被殴打。",
    "有人在中站区菜市场强收摊位费，每个摊位每月三百元，不交就砸摊子。",
    "武陟县某小额贷款公司放高利贷，暴力催收，往借款人家门上泼油漆。",
    "沁阳市某村主任把持村里工程，外地施工队进不来，举报人多次反映无果。",
]


def tip_bodies(n: int) -> list[str]:
    sectors = ["construction", "mining", "markets", "lending", "grassroots", "transport"]
    regions = ["jiefang", "zhongzhan", "xiuwu", "wuzhi", "qinyang", "mengzhou"]
    out = []
    for i in range(n):
        out.append(
            json.dumps(
                {
                    "description": random.choice(TEXTS).format(n=i % 10000) + f"（编号{i}）",
                    "sector": sectors[i % len(sectors)],
                    "region": regions[i % len(regions)],
                    "location": "人民路与建设路交叉口",
                    "anonymous": True,
                },
                ensure_ascii=False,
            )
        )
    return out


def verified_posts(ctx: Context, path: str, bodies: list[str], *, ok: int, headers: list[str]) -> dict:
    """Median of runs of POSTs; each run checks that the rows created equal the successful responses."""

    def one():
        before = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip")
        result = ctx.wrk(path, seconds=ctx.args.seconds, method="POST", bodies=bodies, ok=ok, headers=headers)
        result["created"] = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip") - before
        return result

    r = ctx.runs(one)
    # wrk stops counting at the deadline while up to `connections` requests are still in flight; the
    # server completes them, so a run is verified when rows = successes + at most that many.
    r["verified"] = all(0 <= x["created"] - x["ok"] <= 8 for x in r["runs"])
    r["note"] = "rows created / successful responses per run: " + ", ".join(
        f"{x['created']} / {x['ok']}" for x in r["runs"]
    )
    return r


def public_submission(ctx: Context) -> list[dict]:
    what = "public tip submission, JSON API, c=8"
    goal = "≥ 15% of bare view, p95 < 60 ms"
    status, _ = http_json("POST", "/api/v1/public/tips/", {"description": ""})
    if status == 404:
        return [not_built(what, goal, "POST /api/v1/public/tips/ is not in the portal yet")]
    r = verified_posts(
        ctx, "/api/v1/public/tips/", tip_bodies(5000), ok=201, headers=["Content-Type: application/json"]
    )
    ratio = r["rps"] / ctx.limits["bare_rps"]
    return [
        row(
            what,
            f"{r['rps']:.0f} req/s ({pct(ratio)} of bare), p95 {r['p95_ms']:.1f} ms, "
            f"{'verified' if r['verified'] else 'NOT verified'}",
            goal,
            ratio >= 0.15 and r["p95_ms"] < 60 and r["verified"],
            r["note"],
        )
    ]


def csrf_form_session() -> tuple[str, str]:
    """GET the public form as a browser does: the CSRF cookie and the masked token from the page."""
    with urllib.request.urlopen(BASE + "/report/", timeout=10) as r:  # noqa: S310 — loopback only
        html = r.read().decode()
        cookies = r.headers.get_all("Set-Cookie") or []
    cookie = next(c.split(";", 1)[0] for c in cookies if c.startswith("csrftoken="))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def public_form(ctx: Context) -> list[dict]:
    """The HTML form with its CSRF token: success is the redirect to the receipt page (302)."""
    what = "public tip form (HTML, CSRF), c=8"
    goal = "≥ 10% of bare view"
    cookie, token = csrf_form_session()
    bodies = []
    for body in tip_bodies(5000):
        data = json.loads(body)
        bodies.append(
            urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "description": data["description"],
                    "sector": data["sector"],
                    "region": data["region"],
                    "location": data["location"],
                    "anonymous": "1",
                    "website": "",
                }
            )
        )
    r = verified_posts(
        ctx,
        "/report/",
        bodies,
        ok=302,
        headers=[f"Cookie: {cookie}", "Content-Type: application/x-www-form-urlencoded"],
    )
    ratio = r["rps"] / ctx.limits["bare_rps"]
    return [
        row(
            what,
            f"{r['rps']:.0f} req/s ({pct(ratio)} of bare), p95 {r['p95_ms']:.1f} ms, "
            f"{'verified' if r['verified'] else 'NOT verified'}",
            goal,
            ratio >= 0.10 and r["verified"],
            r["note"],
        )
    ]


def followup_status(ctx: Context) -> list[dict]:
    what = "follow-up status with code + PIN, c=1"
    goal = "p95 < 30 ms"
    receipts = []
    for body in tip_bodies(50):
        status, data = http_json("POST", "/api/v1/public/tips/", json.loads(body))
        if status == 404:
            return [not_built(what, goal, "public API not in the portal yet")]
        if status == 201:
            receipts.append(json.dumps({"tracking_code": data["tracking_code"], "pin": data["pin"]}))
    r = ctx.runs(
        lambda: ctx.wrk(
            "/api/v1/public/tips/status/",
            seconds=ctx.args.seconds,
            method="POST",
            bodies=receipts,
            headers=["Content-Type: application/json"],
            connections=1,
        )
    )
    return [
        row(what, f"{r['rps']:.0f} req/s, p95 {r['p95_ms']:.1f} ms", goal, r["p95_ms"] < 30 and r["bad"] == 0)
    ]


SESSION_CODE = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from campaign.security import demo_seed_otp
demo_seed_otp()  # the demo users of roles that need two-factor login, enrolled as seed_demo does
out = {}
for name in %r:
    user = get_user_model().objects.get(username=name)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device:
        s["otp_device_id"] = device.persistent_id
    s.create()
    out[name] = s.session_key
print(json.dumps(out))
"""


def sessions(ctx: Context, *usernames: str) -> dict[str, list[str]]:
    """Cookie headers of logged-in (and two-factor verified) sessions, made directly in the session store."""
    keys = django_eval(ctx, SESSION_CODE % (list(usernames),))
    return {name: [f"Cookie: sessionid={key}"] for name, key in keys.items()}


def page_rows(
    ctx: Context, what: str, paths: list[str], headers: list[str], goal_ms: float, c: int = 1
) -> dict:
    r = ctx.runs(
        lambda: ctx.wrk(paths[0], seconds=ctx.args.seconds, paths=paths, headers=headers, connections=c)
    )
    ok = r["p95_ms"] < goal_ms and r["bad"] == 0
    return row(
        what,
        f"c={c}: p95 {r['p95_ms']:.1f} ms, p50 {r['p50_ms']:.1f} ms, {r['rps']:.0f} req/s"
        + ("" if r["bad"] == 0 else f", {r['bad']:.0f} non-200"),
        f"p95 < {goal_ms:.0f} ms",
        ok,
    )


def staff_register(ctx: Context) -> list[dict]:
    goal = 50.0
    cookies = sessions(ctx, "office")["office"]
    cursor = django_eval(
        ctx,
        """
import json
from reports.models import Tip
from reports.selectors import _cursor_encode
offset = min(24950, Tip.objects.count() - 50)  # page 500 of 50 rows (fewer in a quick run)
tip = Tip.objects.order_by("-received_at", "-id")[offset:offset + 1].get()
print(json.dumps(_cursor_encode(tip, "next")))
""",
    )
    cases = [
        ("staff register: first page", ["/tips/"]),
        (
            "staff register: filtered sector + region + status",
            [
                "/tips/?sector=construction&region=jiefang&status=new",
                "/tips/?sector=transport&region=xiuwu&status=registered",
                "/tips/?sector=lending&region=wuzhi&status=new",
            ],
        ),
        (
            "staff register: text search (pg_trgm)",
            ["/tips/?q=保护费", "/tips/?q=非法采砂", "/tips/?q=高利贷"],
        ),
        ("staff register: page 500 (keyset cursor)", [f"/tips/?cursor={cursor}"]),
    ]
    return [page_rows(ctx, what, paths, cookies, goal) for what, paths in cases]


def liaison_workspace(ctx: Context) -> list[dict]:
    cookies = sessions(ctx, "liaison_housing")["liaison_housing"]
    return [page_rows(ctx, "liaison workspace (市住建局)", ["/leads/workspace/"], cookies, 50.0)]


def dashboards(ctx: Context) -> list[dict]:
    cookies = sessions(ctx, "leader")["leader"]
    out = []
    for what, path in (
        ("dashboard overview, warm, c=1", "/dashboard/"),
        ("dashboard sector × region matrix, warm, c=1", "/dashboard/matrix/"),
    ):
        ctx.wrk(path, seconds=2, headers=cookies, connections=1)  # warm
        r = ctx.runs(lambda p=path: ctx.wrk(p, seconds=ctx.args.seconds, headers=cookies, connections=1))
        out.append(
            row(
                what,
                f"median {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms",
                "< 300 ms",
                r["p50_ms"] < 300 and r["bad"] == 0,
            )
        )
    return out


# --- components measured in-process or by their own benches --------------------------------------
def suggestions(ctx: Context) -> list[dict]:
    from bench import linking

    return linking.linking_suggestions(ctx)


def escalation(ctx: Context) -> list[dict]:
    from bench import escalation as bench_escalation

    return bench_escalation.scenario(ctx)


def routing(ctx: Context) -> list[dict]:
    from bench import routing as bench_routing

    return bench_routing.scenario(ctx)


# --- sustained mixed load with a Celery worker -------------------------------------------------------
class CeleryWorker:
    """One Celery worker on every queue (routing the soak's tips as they arrive), production settings."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> CeleryWorker:
        cmd = [PY, "-m", "celery", "-A", "config", "worker", "-Q", "default,routing,escalation,mail"]
        cmd += ["--concurrency", "1", "-l", "WARNING", "--without-heartbeat", "--without-gossip"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.ctx.env, start_new_session=True)
        time.sleep(5)
        return self

    def rss_mb(self) -> float:
        import psutil

        try:
            main = psutil.Process(self.proc.pid)
            return round(
                max([main.memory_info().rss] + [c.memory_info().rss for c in main.children()]) / 2**20, 1
            )
        except psutil.Error:
            return 0.0

    def __exit__(self, *exc) -> None:
        import os
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def soak(ctx: Context) -> list[dict]:
    """Submissions, follow-ups and staff pages at once for --soak-seconds, a Celery worker routing the new
    tips; gunicorn and worker memory sampled every 15 s. Flat = the last third's median within 10% (or
    15 MB) of the first third's, after a one-minute warm-up in the full run."""
    import threading

    seconds = ctx.args.soak_seconds
    office = sessions(ctx, "office", "liaison_housing")
    receipts = []
    for body in tip_bodies(30):
        status, data = http_json("POST", "/api/v1/public/tips/", json.loads(body))
        if status == 201:
            receipts.append(json.dumps({"tracking_code": data["tracking_code"], "pin": data["pin"]}))
    loads = {
        "submissions": {
            "path": "/api/v1/public/tips/",
            "method": "POST",
            "bodies": tip_bodies(2000),
            "ok": 201,
            "headers": ["Content-Type: application/json"],
            "connections": 2,
        },
        "follow-ups": {
            "path": "/api/v1/public/tips/status/",
            "method": "POST",
            "bodies": receipts,
            "headers": ["Content-Type: application/json"],
            "connections": 2,
        },
        "register": {
            "path": "/tips/",
            "paths": ["/tips/", "/tips/?sector=construction&region=jiefang", "/tips/?q=保护费"],
            "headers": office["office"],
            "connections": 2,
        },
        "workspace": {"path": "/leads/workspace/", "headers": office["liaison_housing"], "connections": 2},
    }
    results: dict[str, dict] = {}
    samples: list[tuple[float, float, float]] = []  # (t, max gunicorn worker RSS, celery RSS)
    with CeleryWorker(ctx) as worker:
        before = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip")

        def drive(name, spec):
            spec = dict(spec)
            path = spec.pop("path")
            try:
                results[name] = ctx.wrk(path, seconds=seconds, **spec)
            except Exception as exc:  # reported as a failure of the row below
                results[name] = {"error": str(exc), "bad": 1, "ok": 0}

        threads = [threading.Thread(target=drive, args=item) for item in loads.items()]
        for t in threads:
            t.start()
        started = time.monotonic()
        while any(t.is_alive() for t in threads):
            rss = ctx.server.worker_rss_mb() or [0.0]
            samples.append((time.monotonic() - started, max(rss), worker.rss_mb()))
            time.sleep(15 if seconds >= 120 else 2)
        for t in threads:
            t.join()
        created = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip") - before
        # Let the worker route what is queued for a while, then read its memory after the run.
        time.sleep(10)
        celery_rss = worker.rss_mb()
        routed = ctx.sql_value(
            ctx.db_url,
            f"SELECT count(*) FROM (SELECT id FROM reports_tip ORDER BY id DESC LIMIT {max(created, 1)}) t "
            "JOIN reports_tip r USING (id) WHERE r.routed_at IS NOT NULL",
        )
    errors = sum(r.get("bad", 0) for r in results.values())
    verified = 0 <= created - results.get("submissions", {}).get("ok", -(10**9)) <= 2  # in flight at the end
    warm = [s for s in samples if s[0] >= min(60, seconds / 3)] or samples
    third = max(1, len(warm) // 3)
    first_web = statistics.median(s[1] for s in warm[:third])
    last_web = statistics.median(s[1] for s in warm[-third:])
    first_celery = statistics.median(s[2] for s in warm[:third])
    last_celery = statistics.median(s[2] for s in warm[-third:])

    def flat(a, b):
        return b - a <= max(0.10 * a, 15)

    total = sum(r.get("ok", 0) for r in results.values())
    per = ", ".join(f"{k} {r.get('ok', 0)}" for k, r in results.items())
    return [
        row(
            f"sustained mixed load {seconds // 60} min {seconds % 60} s (submissions, follow-ups, staff pages)",
            f"{total} requests ({per}), {errors} errors; gunicorn worker RSS {first_web:.0f} → {last_web:.0f} MB, "
            f"Celery {first_celery:.0f} → {last_celery:.0f} MB; {created} tips created"
            f" ({'= 201 responses + in flight' if verified else 'NOT equal to 201 responses'}), {routed} routed",
            "0 errors, memory flat",
            errors == 0 and verified and flat(first_web, last_web) and flat(first_celery, last_celery),
            "; ".join(f"{k}: {r['error']}" for k, r in results.items() if "error" in r),
        ),
        row("memory: Celery worker RSS after the soak", f"{celery_rss:.0f} MB", "< 300 MB", celery_rss < 300),
    ]


# --- EXPLAIN ANALYZE of the heavy queries -----------------------------------------------------------
EXPLAIN_CODE = """
import json, time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
pages = %r
cookies = %r
out = []
for who, path in pages:
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = cookies[who]
    client.get(path)  # warm
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    queries = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    heavy = selects[0]["sql"] if selects else ""
    plan = ""
    if heavy:
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + heavy)
            plan = "\\n".join(r[0] for r in cur.fetchall())
    out.append({"who": who, "path": path, "status": response.status_code, "queries": len(queries),
                "slowest_ms": round(float(selects[0]["time"]) * 1000, 1) if selects else 0,
                "sql": heavy, "plan": plan})
print(json.dumps(out))
"""

EXPLAIN_PAGES = [
    ("office", "/tips/"),
    ("office", "/tips/?sector=construction&region=jiefang&status=new"),
    ("office", "/tips/?q=保护费"),
    ("liaison_housing", "/leads/workspace/"),
    ("office", "/leads/"),
    ("leader", "/dashboard/"),
    ("leader", "/dashboard/matrix/"),
]


def explain(ctx: Context) -> list[dict]:
    """The slowest query of each heavy page with its plan, for docs/benchmarks.md (no table row)."""
    keys = {
        name: cookie[0].split("=", 1)[1]
        for name, cookie in sessions(ctx, "office", "liaison_housing", "leader").items()
    }
    ctx.explains = django_eval(ctx, EXPLAIN_CODE % (EXPLAIN_PAGES, keys))
    return []


def run_all(ctx: Context, only: set[str]) -> list[dict]:
    rows: list[dict] = []
    steps = [
        ("limits", machine_limits),
        ("submit", public_submission),
        ("form", public_form),
        ("followup", followup_status),
        ("register", staff_register),
        ("workspace", liaison_workspace),
        ("dashboard", dashboards),
        ("suggestions", suggestions),
        ("explain", explain),
        ("soak", soak),
        ("routing", routing),
        ("escalation", escalation),
    ]
    for name, fn in steps:
        if only and name not in only and name != "limits":
            continue
        ctx.log(f"scenario {name}")
        started = time.monotonic()
        try:
            rows += fn(ctx)
        except Exception as exc:  # a broken scenario is reported, the others still run
            rows.append(row(name, f"failed: {exc.__class__.__name__}: {exc}", "", False))
        ctx.log(f"scenario {name} done in {time.monotonic() - started:.0f} s")
        if name == "soak":
            rows += gunicorn_memory(ctx)
    if not any(r["what"].startswith("memory: gunicorn") for r in rows):
        rows += gunicorn_memory(ctx)
    return rows


def gunicorn_memory(ctx: Context) -> list[dict]:
    rss = ctx.server.worker_rss_mb() if ctx.server else []
    if not rss:
        return []
    return [
        row(
            "memory: gunicorn worker RSS after the run",
            f"max {max(rss):.0f} MB ({len(rss)} workers)",
            "< 250 MB",
            max(rss) < 250,
        )
    ]
