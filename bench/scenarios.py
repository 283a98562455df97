"""The benchmark rows. Each function measures one row of docs/benchmarks.md's table (issue 10's list).

A row whose feature is not in the portal yet says so ("not built") instead of inventing a number.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

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


def public_submission(ctx: Context) -> list[dict]:
    what = "public tip submission, JSON API, c=8"
    goal = "≥ 15% of bare view, p95 < 60 ms"
    status, _ = http_json("POST", "/api/v1/public/tips/", {"description": ""})
    if status == 404:
        return [not_built(what, goal, "POST /api/v1/public/tips/ is not in the portal yet")]
    bodies = tip_bodies(5000)

    def one():
        before = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip")
        result = ctx.wrk(
            "/api/v1/public/tips/",
            seconds=ctx.args.seconds,
            method="POST",
            bodies=bodies,
            ok=201,
            headers=["Content-Type: application/json"],
        )
        created = ctx.sql_value(ctx.db_url, "SELECT count(*) FROM reports_tip") - before
        result["verified"] = float(created == result["ok"])
        result["created"] = created
        return result

    r = ctx.runs(one)
    ratio = r["rps"] / ctx.limits["bare_rps"]
    verified = all(x["created"] == x["ok"] for x in r["runs"])
    note = (
        ""
        if verified
        else "rows created differ from 201 responses: "
        + ", ".join(f"{x['created']} rows / {x['ok']} ok" for x in r["runs"])
    )
    return [
        row(
            what,
            f"{r['rps']:.0f} req/s ({pct(ratio)} of bare), p95 {r['p95_ms']:.1f} ms, "
            f"{'verified' if verified else 'NOT verified'}",
            goal,
            ratio >= 0.15 and r["p95_ms"] < 60 and verified,
            note,
        )
    ]


def followup_status(ctx: Context) -> list[dict]:
    what = "follow-up status with code + PIN, c=8"
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
    ctx: Context, what: str, paths: list[str], headers: list[str], goal_ms: float, c: int = 8
) -> dict:
    r = ctx.runs(
        lambda: ctx.wrk(paths[0], seconds=ctx.args.seconds, paths=paths, headers=headers, connections=c)
    )
    ok = r["p95_ms"] < goal_ms and r["bad"] == 0
    return row(
        what,
        f"p95 {r['p95_ms']:.1f} ms, p50 {r['p50_ms']:.1f} ms, {r['rps']:.0f} req/s"
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
        ("staff register: first page, c=8", ["/tips/"]),
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
    return [page_rows(ctx, "liaison workspace (市住建局), c=8", ["/leads/workspace/"], cookies, 50.0)]


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


def run_all(ctx: Context, only: set[str]) -> list[dict]:
    rows: list[dict] = []
    steps = [
        ("limits", machine_limits),
        ("submit", public_submission),
        ("followup", followup_status),
        ("register", staff_register),
        ("workspace", liaison_workspace),
        ("dashboard", dashboards),
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
    rss = ctx.server.worker_rss_mb() if ctx.server else []
    if rss:
        rows.append(
            row(
                "memory: gunicorn worker RSS after the run",
                f"max {max(rss):.0f} MB ({len(rss)} workers)",
                "< 250 MB",
                max(rss) < 250,
            )
        )
    _ = statistics
    return rows
