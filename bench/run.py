"""`make bench`: the portal at a million tips, measured against this machine's own limits.

Steps: a database of its own (`portal_bench` on the embedded server, or on DATABASE_URL's server), data
from `generate_load` (kept between runs; --regenerate to rebuild), the portal under gunicorn with
production settings, load from wrk in a separate process, and in-process probes for what is not HTTP
(escalation sweep, routing, suggestions, dashboards). Every figure is a median of --runs runs (>= 3);
HTTP figures count only responses with the expected status and, for submissions, are checked against the
rows created. The table goes to stdout and to docs/benchmarks.md with date, commit, cores, memory and
the exact command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
LUA = ROOT / "bench" / "wrk" / "scenario.lua"
DOC = ROOT / "docs" / "benchmarks.md"
PORT = int(os.environ.get("BENCH_PORT", "8731"))
BASE = f"http://127.0.0.1:{PORT}"
# 2 cores: 3 processes x 4 threads keeps both cores busy while requests wait on PostgreSQL, and keeps
# memory bounded (see docs/benchmarks.md for the comparison that chose it).
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
# Its own database; another name (BENCH_DATABASE) keeps a quick smoke run away from the million-tip set.
DB_NAME = os.environ.get("BENCH_DATABASE", "portal_bench")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment -----------------------------------------------------------------------------------
def server_urls() -> tuple[str, str]:
    db, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not (db and redis):
        from scripts import devservices

        devservices.ensure_started()
        db, redis = devservices.database_url(), devservices.redis_url()
    db = urlunsplit(urlsplit(db)._replace(path="/" + DB_NAME))
    redis = urlunsplit(urlsplit(redis)._replace(path="/" + os.environ.get("BENCH_REDIS_DB", "8")))
    return db, redis


def bench_env(db_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789-abcdefghijkl",
            "IDENTITY_ENCRYPTION_KEYS": "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMDE=",
            "PIN_HASH_KEY": "bench-pin-key",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SESSION_COOKIE_SECURE": "false",
            "BENCH_BARE_VIEW": "1",
            "PUBLIC_RATE_LIMITS_ENABLED": "false",  # one client sends everything here
            "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
            "PRIVATE_MEDIA_ROOT": str(ROOT / "var" / "bench-media"),
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=capture, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr if capture else ''}")
    return result.stdout if capture else ""


def ensure_database(db_url: str, regenerate: bool) -> None:
    import psycopg

    parts = urlsplit(db_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        name = urlsplit(db_url).path.lstrip("/")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def sql_value(db_url: str, query: str):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
        return row[0] if row else None


# --- gunicorn --------------------------------------------------------------------------------------
class Gunicorn:
    def __init__(self, env: dict):
        self.env = env
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        cmd = [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi",
            "-w",
            str(GUNICORN_WORKERS),
            "-k",
            "gthread",
            "--threads",
            str(GUNICORN_THREADS),
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "--max-requests",
            "0",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{BASE}/healthz", timeout=2) as r:  # noqa: S310 — loopback only
                    if r.status in (200, 503):
                        return self
            except OSError:
                time.sleep(0.5)
        raise SystemExit("gunicorn did not answer /healthz within 60 s")

    def worker_rss_mb(self) -> list[float]:
        import psutil

        parent = psutil.Process(self.proc.pid)
        return [round(c.memory_info().rss / 2**20, 1) for c in parent.children()]

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


# --- wrk -------------------------------------------------------------------------------------------
def wrk(
    path: str,
    *,
    seconds: int,
    connections: int = 8,
    method: str = "GET",
    paths: list[str] | None = None,
    bodies: list[str] | None = None,
    headers: list[str] | None = None,
    ok: int = 200,
) -> dict:
    """One wrk run; returns requests/s counting only `ok` responses, latency percentiles in ms."""
    # wrk sends the request line as given: non-ASCII query strings (text search) are percent-encoded first.
    path = quote(path, safe="/?&=%:+,;")
    paths = [quote(p, safe="/?&=%:+,;") for p in paths] if paths else paths
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BENCH_METHOD": method, "BENCH_OK": str(ok)}
        for name, rows in (("BENCH_PATHS", paths), ("BENCH_BODIES", bodies), ("BENCH_HEADERS", headers)):
            if rows:
                file = Path(tmp) / name
                file.write_text("\n".join(rows) + "\n", encoding="utf-8")
                env[name] = str(file)
        cmd = [
            "wrk",
            "-t",
            str(min(2, connections)),  # wrk refuses fewer connections than threads
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            BASE + path,
        ]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = data["duration_us"] / 1e6
    return {
        "rps": data["ok"] / seconds_run,
        "ok": data["ok"],
        "bad": data["bad"] + data["socket_errors"],
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
    }


def median_runs(fn, runs: int) -> dict:
    results = [fn() for _ in range(runs)]
    keys = results[0].keys()
    merged = {k: statistics.median(r[k] for r in results) for k in keys}
    merged["runs"] = results
    return merged


def raw_insert_rate(db_url: str, seconds: float = 3.0) -> dict:
    """Rows/s for a plain INSERT of a tip-sized row through psycopg, one connection, autocommit."""
    import psycopg

    text = "某建筑工程有限公司在解放区工地强揽工程、威胁工人，老板外号“黑三”，电话13703911234。" * 6
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_insert (id bigserial PRIMARY KEY, code text, "
            "description text, accused text, received_at timestamptz DEFAULT now())"
        )
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            conn.execute(
                "INSERT INTO bench_raw_insert (code, description, accused) VALUES (%s, %s, %s)",
                (f"BENCH-{n}", text, "黑三、某建筑工程有限公司"),
            )
            n += 1
        elapsed = time.perf_counter() - started
        conn.execute("TRUNCATE bench_raw_insert")
    return {"rows_per_s": n / elapsed}


# --- the run ---------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=int(os.environ.get("BENCH_TIPS", "1000000")))
    parser.add_argument("--quick", action="store_true", help="20,000 tips and short runs: a smoke test")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--soak-seconds", type=int, default=600, help="sustained mixed load duration")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.tips, args.seconds, args.soak_seconds = min(args.tips, 20000), 3, 20
    args.runs = max(args.runs, 3)
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(sys.argv[1:]))}" if sys.argv[1:] else "")
    if os.environ.get("DATABASE_URL"):  # which server the run used (the database is always its own)
        server = urlsplit(os.environ["DATABASE_URL"])._replace(path="/", query="")
        command = f"DATABASE_URL={urlunsplit(server)} REDIS_URL=… {command}"

    from bench import scenarios

    db_url, redis_url = server_urls()
    env = bench_env(db_url, redis_url)
    ensure_database(db_url, args.regenerate)
    log(f"database {urlsplit(db_url).path[1:]} on {urlsplit(db_url).netloc}; migrating")
    manage(env, "migrate", "--noinput", "-v", "0")
    have = sql_value(db_url, "SELECT count(*) FROM reports_tip") or 0
    generation = None
    if have < args.tips * 0.99:
        if have:
            log(f"{have} tips present, {args.tips} wanted: regenerating")
            ensure_database(db_url, True)
            manage(env, "migrate", "--noinput", "-v", "0")
        log(f"generate_load --tips {args.tips}")
        started = time.monotonic()
        manage(env, "generate_load", "--tips", str(args.tips))
        generation = time.monotonic() - started
        manage(env, "dbshell", "--", "-c", "VACUUM ANALYZE")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    rows: list[dict] = []
    context = scenarios.Context(
        db_url=db_url,
        env=env,
        args=args,
        log=log,
        wrk=wrk,
        median_runs=median_runs,
        raw_insert_rate=raw_insert_rate,
        sql_value=sql_value,
        manage=manage,
    )
    with Gunicorn(env) as server:
        context.server = server
        rows = scenarios.run_all(context, only={s for s in args.only.split(",") if s})
    table = render_table(rows)
    print("\n" + table)
    if not args.no_doc:
        write_doc(table, rows, command=command, tips=args.tips, generation=generation, quick=args.quick)
        if context.explains:
            write_explains(context.explains, command=command)
    return 0


def render_table(rows: list[dict]) -> str:
    out = ["| what | measured | goal | met |", "| --- | --- | --- | --- |"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "n/a"}[row.get("met")]
        out.append(f"| {row['what']} | {row['measured']} | {row['goal']} | {met} |")
    return "\n".join(out)


def write_doc(
    table: str, rows: list[dict], *, command: str, tips: int, generation: float | None, quick: bool
) -> None:
    import psutil

    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    header = (
        f"Date {time.strftime('%Y-%m-%d %H:%M %Z')}, commit `{commit}`, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB memory, {platform.python_implementation()} "
        f"{platform.python_version()}, {tips:,} tips{' (quick smoke run)' if quick else ''}. "
        f"gunicorn {GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads (gthread).\n\n"
        f"Command: `{command}`" + (f"; data generation took {generation:.0f} s." if generation else ".")
    )
    notes = "\n".join(f"- **{r['what']}**: {r['note']}" for r in rows if r.get("note"))
    section = f"<!-- bench:begin -->\n{header}\n\n{table}\n\n{notes}\n<!-- bench:end -->"
    text = (
        DOC.read_text(encoding="utf-8")
        if DOC.exists()
        else "# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n"
    )
    start, end = text.find("<!-- bench:begin -->"), text.find("<!-- bench:end -->")
    if start == -1 or end == -1:
        text += "\n" + section + "\n"
    else:
        text = text[:start] + section + text[end + len("<!-- bench:end -->") :]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    log(f"wrote {DOC.relative_to(ROOT)}")


def replace_section(name: str, body: str) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    section = f"{begin}\n{body}\n{end}"
    start, stop = text.find(begin), text.find(end)
    if start == -1 or stop == -1:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = text[:start] + section + text[stop + len(end) :]
    DOC.write_text(text, encoding="utf-8")


def write_explains(explains: list[dict], *, command: str) -> None:
    """The slowest query of each heavy page and its EXPLAIN (ANALYZE, BUFFERS), measured in the same run."""
    parts = [
        "## Query plans of the heavy pages\n",
        f"The slowest query of each page (after one warm-up request) with `EXPLAIN (ANALYZE, BUFFERS)`, "
        f"from the same run (`{command}`, {time.strftime('%Y-%m-%d')}).\n",
    ]
    for e in explains:
        parts.append(
            f"### `{e['path']}` as {e['who']}: HTTP {e['status']}, {e['queries']} queries, "
            f"slowest {e['slowest_ms']} ms\n"
        )
        sql = e["sql"] if len(e["sql"]) < 2500 else e["sql"][:2500] + " …"
        parts.append(f"```sql\n{sql}\n```\n")
        if e["plan"]:
            parts.append(f"```\n{e['plan']}\n```\n")
    replace_section("explain", "\n".join(parts))
    log(f"wrote query plans to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
