"""Backups and restores of one installation: the database (pg_dump, custom format), the uploaded files,
and a manifest with checksums, row counts and the app version.

A backup is a folder `<BACKUP_DIR>/portal-<UTC time>/`:

    database.dump   pg_dump --format=custom, taken from one snapshot
    media.tar       everything under MEDIA_ROOT (attachments, scans)
    media.sha256    one line per uploaded file, `sha256sum -c` format, checked again after a restore
    manifest.json   checksums of the three files above, row counts of every table (counted in the same
                    snapshot as the dump), app version and commit, server and pg_dump versions
    SHA256SUMS      the same checksums for `sha256sum -c SHA256SUMS` by hand

The folder is written under a `.partial-` name and renamed when complete, so a folder with a manifest
is always a whole backup. Object storage: sync BACKUP_DIR with the storage's own tool (docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import conf, pgtools

FORMAT = 1
PREFIX = "portal-"
PARTIAL = ".partial-"
DUMP = "database.dump"
MEDIA_TAR = "media.tar"
MEDIA_SUMS = "media.sha256"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHECKED_FILES = (DUMP, MEDIA_TAR, MEDIA_SUMS)
# Shown first in summaries; every table is counted and compared all the same.
KEY_TABLES = (
    "reports_tip",
    "reports_tipattachment",
    "reports_tipmessage",
    "leads_lead",
    "campaign_auditentry",
    "campaign_user",
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do (Chinese)."""


@dataclass
class BackupInfo:
    path: Path
    created_at: datetime
    manifest: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


# --- helpers -------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def app_version() -> dict:
    """Version from pyproject.toml and the git commit (or PORTAL_COMMIT where there is no checkout)."""
    version = ""
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError, KeyError):
        version = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text())["project"]["version"]
    commit = os.environ.get("PORTAL_COMMIT", "")
    if not commit and (settings.BASE_DIR / ".git").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            commit = subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
    return {"version": version, "commit": commit}


def _project_tables() -> list[str]:
    """Every table Django manages here (models of installed apps that exist in the database)."""
    existing = set(connection.introspection.table_names())
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    tables.add("django_migrations")
    return sorted(t for t in tables if t in existing)


def _count_rows(cur, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cur.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 — names come from the model registry
        counts[table] = cur.fetchone()[0]
    return counts


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """One backup at a time per target (beat and a person at the console may both start one)."""
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"另一个备份正在写入 {target}，请稍后再试。")
        yield


def _media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# --- backup --------------------------------------------------------------------------------------
def backup_create(*, target_dir: Path | None = None, now: datetime | None = None) -> BackupInfo:
    """Write one complete backup folder and return it. Raises BackupError (nothing half-written stays)."""
    target = Path(target_dir or conf.get("BACKUP_DIR"))
    now = now or timezone.now()
    name = f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    with _lock(target):
        final = target / name
        if final.exists():
            raise BackupError(f"备份目录已存在：{final}")
        work = target / f"{PARTIAL}{name}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            manifest = _write_backup(work, now)
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return BackupInfo(final, now, manifest)


def _write_backup(work: Path, now: datetime) -> dict:
    server = pgtools.server_major()
    pg_dump = pgtools.find_tool("pg_dump", min_major=server, prefer_major=server)
    env, dbname = pgtools.libpq_env()
    tables = _project_tables()
    # Count rows and dump from one exported snapshot, so the counts describe exactly what was dumped
    # even while the portal keeps taking tips.
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as snap:
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with snap.cursor() as cur:
            counts = _count_rows(cur, tables)
        cmd = [
            str(pg_dump.path),
            "--format=custom",
            "--compress=6",
            f"--snapshot={snapshot}",
            "--no-password",
            f"--file={work / DUMP}",
            dbname,
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        snap.execute("COMMIT")
    if proc.returncode != 0:
        raise BackupError(f"pg_dump 失败：{proc.stderr.strip()[-2000:]}")

    media_root = Path(settings.MEDIA_ROOT)
    files = _media_files(media_root)
    media_bytes = 0
    with open(work / MEDIA_SUMS, "w", encoding="utf-8") as sums, tarfile.open(work / MEDIA_TAR, "w") as tar:
        for path in files:
            rel = path.relative_to(media_root).as_posix()
            with contextlib.suppress(FileNotFoundError):  # deleted while we ran: the dump no longer needs it
                tar.add(path, arcname=rel, recursive=False)
                sums.write(f"{sha256_file(path)}  {rel}\n")
                media_bytes += path.stat().st_size

    checksums = {
        n: {"sha256": sha256_file(work / n), "bytes": (work / n).stat().st_size} for n in CHECKED_FILES
    }
    manifest = {
        "format": FORMAT,
        "name": work.name.removeprefix(PARTIAL),
        "created_at": now.isoformat(),
        "app": app_version(),
        "zone": conf.zone(),
        "database": {
            "name": settings.DATABASES["default"]["NAME"],
            "server_version": pgtools.server_version(),
            "pg_dump": pg_dump.version,
            "pg_dump_major": pg_dump.major,
        },
        "files": checksums,
        "media": {"files": len(files), "bytes": media_bytes},
        "row_counts": counts,
        "key_tables": {t: counts[t] for t in KEY_TABLES if t in counts},
    }
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    lines = [f"{v['sha256']}  {n}\n" for n, v in sorted(checksums.items())]
    lines.append(f"{sha256_file(work / MANIFEST)}  {MANIFEST}\n")
    (work / SUMS).write_text("".join(lines))
    return manifest


# --- listing and retention -----------------------------------------------------------------------
def backup_list(target_dir: Path | None = None) -> list[BackupInfo]:
    """Complete backups in the target, newest first."""
    target = Path(target_dir or conf.get("BACKUP_DIR"))
    found = []
    if not target.is_dir():
        return found
    for path in target.iterdir():
        if not path.is_dir() or not path.name.startswith(PREFIX) or not (path / MANIFEST).is_file():
            continue
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            created = datetime.fromisoformat(manifest["created_at"])
        except (ValueError, KeyError, OSError):
            continue
        found.append(BackupInfo(path, created, manifest))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def backup_prune(
    *,
    target_dir: Path | None = None,
    keep_daily: int | None = None,
    keep_weekly: int | None = None,
    now: datetime | None = None,
) -> list[Path]:
    """Keep the newest backup of each of the last `keep_daily` days that have one, and the newest of
    each of the last `keep_weekly` ISO weeks; delete the rest. The newest backup is always kept.
    Leftover `.partial-` folders older than a day (a run that died) go too. Returns what was removed.
    """
    target = Path(target_dir or conf.get("BACKUP_DIR"))
    keep_daily = conf.get("BACKUP_KEEP_DAILY") if keep_daily is None else keep_daily
    keep_weekly = conf.get("BACKUP_KEEP_WEEKLY") if keep_weekly is None else keep_weekly
    now = now or timezone.now()
    backups = backup_list(target)
    keep: set[Path] = set()
    if backups:
        keep.add(backups[0].path)
    days: dict = {}
    weeks: dict = {}
    for b in backups:  # newest first, so the first seen per day/week is the newest of it
        local = timezone.localtime(b.created_at)
        days.setdefault(local.date(), b.path)
        weeks.setdefault(local.isocalendar()[:2], b.path)
    keep.update(list(days.values())[:keep_daily])
    keep.update(list(weeks.values())[:keep_weekly])
    removed = []
    with _lock(target):
        for b in backups:
            if b.path not in keep:
                shutil.rmtree(b.path)
                removed.append(b.path)
        for path in target.glob(f"{PARTIAL}*"):
            age = now.timestamp() - path.stat().st_mtime
            if age > timedelta(days=1).total_seconds():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


# --- verify and restore --------------------------------------------------------------------------
def backup_verify(folder: Path) -> dict:
    """Read the manifest and check every file against it; raises BackupError listing what is wrong."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} 不是完整的备份：缺少 {MANIFEST}。")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise BackupError(f"{manifest_path} 无法解析：{exc}")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持（本程序支持 {FORMAT}）。")
    problems = []
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}：文件缺失")
        elif sha256_file(path) != expected["sha256"]:
            problems.append(f"{name}：校验和不符（文件已损坏或被改动）")
    missing = set(CHECKED_FILES) - set(manifest.get("files", {}))
    problems += [f"{name}：清单中没有它的校验和" for name in sorted(missing)]
    if problems:
        raise BackupError("备份校验失败，未做任何恢复：\n  " + "\n  ".join(problems))
    return manifest


def database_user_tables() -> list[str]:
    """Tables, views and sequences in the database that no extension owns (empty list: empty database)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT n.nspname || '.' || c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY 1
            """
        )
        return [row[0] for row in cur.fetchall()]


def _restore_database(pg_restore: pgtools.PgTool, dump: Path, server: int) -> None:
    """pg_restore in one transaction. A pg_restore newer than the server writes settings the server
    does not know (SET transaction_timeout from 17 on), so then its SQL goes through psql without them."""
    env, dbname = pgtools.libpq_env()
    listing = subprocess.run(
        [str(pg_restore.path), "--list", str(dump)], env=env, capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore 无法读取 {dump}：{listing.stderr.strip()[-2000:]}")
    # An extension's comment belongs to the extension's owner (a superuser): skipping it lets a plain
    # database owner restore; the extension itself (pg_trgm) is still created.
    entries = [line for line in listing.stdout.splitlines() if " COMMENT - EXTENSION " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as fh:
        fh.write("\n".join(entries) + "\n")
        list_path = fh.name
    common = ["--no-owner", "--no-privileges", f"--use-list={list_path}"]
    try:
        if pg_restore.major <= server:
            cmd = [str(pg_restore.path), *common, "--exit-on-error", "--single-transaction", "--no-password"]
            proc = subprocess.run(
                [*cmd, f"--dbname={dbname}", str(dump)], env=env, capture_output=True, text=True
            )
            error = proc.stderr if proc.returncode else ""
        else:
            error = _restore_via_psql(pg_restore, common, dump, env, dbname, server)
    finally:
        os.unlink(list_path)
    if error:
        raise BackupError(f"pg_restore 失败（数据库未改变）：{error.strip()[-2000:]}")


NEWER_SETTINGS = {17: (b"SET transaction_timeout",)}


def _restore_via_psql(pg_restore, common, dump, env, dbname, server) -> str:
    skip = tuple(p for major, prefixes in NEWER_SETTINGS.items() if major > server for p in prefixes)
    psql = pgtools.find_tool("psql", min_major=0, prefer_major=server)
    producer = subprocess.Popen(
        [str(pg_restore.path), *common, "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    consumer = subprocess.Popen(
        [
            str(psql.path),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--no-password",
            "-d",
            dbname,
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for line in producer.stdout:
            if not line.startswith(skip):
                consumer.stdin.write(line)
    except BrokenPipeError:
        pass  # psql stopped on an error: its stderr says which
    finally:
        with contextlib.suppress(BrokenPipeError):
            consumer.stdin.close()
    producer_err = producer.stderr.read().decode(errors="replace")
    consumer_err = consumer.stderr.read().decode(errors="replace")
    if producer.wait() != 0:
        consumer.kill()
        consumer.wait()
        return producer_err or "pg_restore failed"
    if consumer.wait() != 0:
        return consumer_err or "psql failed"
    return ""


def backup_restore(*, folder: Path, stdout=None) -> dict:
    """Restore a backup into an EMPTY installation (database and MEDIA_ROOT). Returns a summary.

    Order: checksums first (nothing touched if they fail), then the emptiness checks, then the database
    in one transaction (all or nothing), then the files, then the row counts and file checksums again.
    """

    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg)

    folder = Path(folder)
    manifest = backup_verify(folder)
    say(f"校验通过：{folder.name}（{manifest['created_at']}，版本 {manifest['app'].get('version')}）")

    db_name = settings.DATABASES["default"]["NAME"]
    existing = database_user_tables()
    if existing:
        raise BackupError(
            f"数据库 {db_name} 不是空的（已有 {len(existing)} 个表或序列，例如 {', '.join(existing[:3])}）。"
            "恢复只能在空库上进行：请新建一个空数据库（createdb），将 DATABASE_URL 指向它后再执行。"
        )
    media_root = Path(settings.MEDIA_ROOT)
    if _media_files(media_root):
        raise BackupError(
            f"附件目录 {media_root} 不是空的。恢复只能在新的安装上进行：请将 PRIVATE_MEDIA_ROOT 指向空目录。"
        )

    dump_major = int(manifest["database"].get("pg_dump_major") or 0)
    server = pgtools.server_major()
    pg_restore = pgtools.find_tool("pg_restore", min_major=max(dump_major, server), prefer_major=server)
    connection.close()  # pg_restore works on its own connection; ours must not hold anything open
    _restore_database(pg_restore, folder / DUMP, server)
    say(f"数据库已恢复到 {db_name}（{pg_restore.version}）")

    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / MEDIA_TAR) as tar:
        tar.extractall(media_root, filter="data")  # refuses absolute paths, "..", devices and links out
    bad = []
    restored_files = 0
    for line in (folder / MEDIA_SUMS).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, rel = line.split("  ", 1)
        path = media_root / rel
        restored_files += 1
        if not path.is_file() or sha256_file(path) != digest:
            bad.append(rel)
    if bad:
        raise BackupError(f"附件恢复后校验不符：{', '.join(bad[:10])}")
    say(f"附件已恢复到 {media_root}（{restored_files} 个文件，逐个校验通过）")

    with connection.cursor() as cur:
        counts = _count_rows(cur, sorted(manifest["row_counts"]))
    diffs = {t: (n, counts.get(t)) for t, n in manifest["row_counts"].items() if counts.get(t) != n}
    if diffs:
        detail = ", ".join(f"{t}: 应为 {a}，实为 {b}" for t, (a, b) in sorted(diffs.items()))
        raise BackupError(f"恢复后的行数与备份清单不符：{detail}")
    say(f"行数核对通过（{len(counts)} 张表）")

    from campaign.audit import audit_record

    audit_record(
        actor=None,
        action="backup.restore",
        reason=f"从备份 {manifest['name']} 恢复",
        data={"backup": manifest["name"], "created_at": manifest["created_at"], "app": manifest["app"]},
    )
    current = app_version()
    if (
        manifest["app"].get("commit")
        and current.get("commit")
        and manifest["app"]["commit"] != current["commit"]
    ):
        say(
            f"注意：备份来自版本 {manifest['app']['commit'][:12]}，当前代码为 {current['commit'][:12]}；"
            "请执行 manage.py migrate。"
        )
    return {"manifest": manifest, "row_counts": counts, "media_files": restored_files}
