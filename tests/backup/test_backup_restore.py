"""Backups: a seeded installation restores into an empty one with the same tips, leads, attachments and
audit trail; restore refuses non-empty targets and damaged backups; retention; the nightly task."""

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from transfer import backup

ROOT = Path(__file__).resolve().parents[2]
# Compared row by row (md5 over every column, in id order) between the source and the restored copy.
COMPARED = [
    "reports_tip",
    "reports_tipattachment",
    "reports_tipmessage",
    "reports_tipevent",
    "leads_lead",
    "campaign_auditentry",
    "campaign_user",
]


def _conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    parts = [f"host={db.get('HOST') or '127.0.0.1'}", f"port={db.get('PORT') or 5432}", f"dbname={dbname}"]
    if db.get("USER"):
        parts.append(f"user={db['USER']}")
    if db.get("PASSWORD"):
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def _url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{dbname}"


def _fingerprints(conn, max_audit_id: int | None = None) -> dict:
    out = {}
    for table in COMPARED:
        exists = conn.execute("SELECT to_regclass(%s)", [f"public.{table}"]).fetchone()[0]
        if not exists:
            continue
        where = f" WHERE id <= {int(max_audit_id)}" if table == "campaign_auditentry" and max_audit_id else ""
        count, digest = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t{where}"  # noqa: S608
        ).fetchone()
        out[table] = (count, digest)
    return out


@pytest.fixture
def backup_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT.mkdir()
    return settings


def _make_rows(users) -> dict:
    """Tips with identity, attachments, messages, events, and audit rows, on top of seed_demo's data."""
    from campaign.audit import audit_record
    from reports import crypto
    from reports.models import Channel, Tip, TipAttachment, TipEvent, TipMessage

    made = {"files": {}}
    for i in range(3):
        code = crypto.tracking_code_new()
        tip = Tip.objects.create(
            tracking_code=code,
            pin_hash=crypto.pin_hash(tracking_code=code, pin="123456"),
            channel=Channel.ONLINE if i else Channel.LETTER,
            description=f"备份测试举报{i}：某工地有人强揽工程、暴力阻工。",
            accused="某建筑劳务公司",
            anonymous=bool(i % 2),
            identity_encrypted=crypto.encrypt_identity({"name": "李四", "phone": "13800001234"}),
            identity_masked={"name": "李*", "phone": "138****1234"},
            received_at=timezone.now() - dt.timedelta(days=i),
        )
        TipEvent.objects.create(tip=tip, kind="public:received", public=True, public_text="已收到")
        msg = TipMessage.objects.create(
            tip=tip, direction=TipMessage.Direction.TO_INFORMANT, body="请补充时间。"
        )
        content = f"照片内容 {i} {uuid.uuid4()}".encode() * 50
        att = TipAttachment(
            tip=tip,
            message=msg if i == 2 else None,
            original_name=f"现场{i}.jpg",
            content_type="image/jpeg",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        att.file.save("ignored", ContentFile(content), save=False)
        att.save()
        made["files"][att.file.name] = att.sha256
        audit_record(actor=users["office"], action="tip.reveal_identity", target=tip, reason="核实举报人身份")
    audit_record(actor=users["admin"], action="user.role_change", data={"user": "police", "role": "police"})
    return made


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_empty_database_with_same_tips_leads_attachments_and_audit(
    backup_settings, tmp_path
):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from campaign.models import User

    made = _make_rows({u.username: u for u in User.objects.all()})
    source_db = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(_conninfo(source_db)) as conn:
        before = _fingerprints(conn)
        max_audit = conn.execute("SELECT max(id) FROM campaign_auditentry").fetchone()[0]
        source_files = dict(conn.execute("SELECT file, sha256 FROM reports_tipattachment").fetchall())
    assert set(made["files"]) <= set(source_files)
    assert before["reports_tip"][0] >= 3 and before["campaign_auditentry"][0] >= 4

    call_command("backup", "--no-prune", stdout=open(os.devnull, "w"))  # noqa: SIM115
    (folder,) = [b.path for b in backup.backup_list(settings.BACKUP_DIR)]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["row_counts"]["reports_tip"] == before["reports_tip"][0]
    assert manifest["media"]["files"] >= len(source_files)

    target = f"{source_db}_restore_{uuid.uuid4().hex[:8]}"
    restored_media = tmp_path / "restored-media"
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": _url(target),
            "REDIS_URL": settings.REDIS_URL,
            "PRIVATE_MEDIA_ROOT": str(restored_media),
        }
        proc = subprocess.run(
            [sys.executable, "manage.py", "restore", str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        assert "恢复完成" in proc.stdout

        with psycopg.connect(_conninfo(target)) as conn:
            after = _fingerprints(conn, max_audit_id=max_audit)
            # The restore itself is the one audit row the copy has beyond the original.
            extra = conn.execute(
                "SELECT action FROM campaign_auditentry WHERE id > %s ORDER BY id", [max_audit]
            ).fetchall()
            attachments = conn.execute("SELECT file, sha256 FROM reports_tipattachment").fetchall()
            trigger = conn.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'campaign_auditentry_append_only'"
            ).fetchone()
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute("UPDATE campaign_auditentry SET reason = 'changed'")
        assert after == before
        assert extra == [("backup.restore",)]
        assert trigger is not None
        assert dict(attachments) == source_files
        for name, sha in attachments:
            assert hashlib.sha256((restored_media / name).read_bytes()).hexdigest() == sha
    finally:
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_non_empty_database_and_changes_nothing(backup_settings, users):
    call_command("backup", "--no-prune", stdout=open(os.devnull, "w"))  # noqa: SIM115
    (folder,) = [b.path for b in backup.backup_list(settings.BACKUP_DIR)]
    before = users["office"].__class__.objects.count()
    with pytest.raises(CommandError, match="不是空的"):
        call_command("restore", str(folder))
    assert users["office"].__class__.objects.count() == before
    from campaign.models import AuditEntry

    assert not AuditEntry.objects.filter(action="backup.restore").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_damaged_backup_before_anything_else(backup_settings, campaign_data):
    call_command("backup", "--no-prune", stdout=open(os.devnull, "w"))  # noqa: SIM115
    (folder,) = [b.path for b in backup.backup_list(settings.BACKUP_DIR)]
    dump = folder / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    # Checked before the emptiness test: the message is about the checksum, not the full database.
    with pytest.raises(CommandError, match="database.dump：校验和不符"):
        call_command("restore", str(folder))
    (folder / "media.tar").unlink()
    with pytest.raises(CommandError, match="media.tar：文件缺失"):
        call_command("restore", "--verify-only", str(folder))


@pytest.mark.django_db(transaction=True)
def test_backup_manifest_has_checksums_row_counts_and_version(backup_settings, campaign_data):
    (settings.MEDIA_ROOT / "tips").mkdir()
    (settings.MEDIA_ROOT / "tips" / "a").write_bytes(b"x" * 100)
    info = backup.backup_create()
    m = info.manifest
    assert m["format"] == 1 and m["app"]["version"]
    assert m["created_at"] and m["database"]["pg_dump_major"] >= connection.pg_version // 10000
    assert m["row_counts"]["campaign_user"] == len(campaign_data["users"])
    assert m["media"] == {"files": 1, "bytes": 100}
    for name in ("database.dump", "media.tar", "media.sha256"):
        assert m["files"][name]["sha256"] == backup.sha256_file(info.path / name)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=info.path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    assert not list(Path(settings.BACKUP_DIR).glob(".partial-*"))


def _fake_backup(target: Path, when: dt.datetime) -> Path:
    path = target / f"portal-{when:%Y%m%dT%H%M%SZ}"
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"created_at": when.isoformat(), "format": 1}))
    return path


def test_retention_keeps_newest_per_day_and_per_week(tmp_path, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    tz = dt.timezone(dt.timedelta(hours=8))
    now = dt.datetime(2026, 3, 20, 3, 0, tzinfo=tz)  # a Friday
    made = {}
    for days_ago in range(0, 40):
        when = now - dt.timedelta(days=days_ago)
        made[days_ago] = _fake_backup(tmp_path, when)
    made["second-today"] = _fake_backup(tmp_path, now - dt.timedelta(hours=2))
    partial = tmp_path / ".partial-portal-x"
    partial.mkdir()
    os.utime(partial, (now.timestamp() - 2 * 86400, now.timestamp() - 2 * 86400))

    removed = backup.backup_prune(target_dir=tmp_path, keep_daily=3, keep_weekly=3, now=now)
    kept = {b.path for b in backup.backup_list(tmp_path)}
    # Three newest days, plus the newest of the two ISO weeks before this one.
    expected = {made[0], made[1], made[2], made[5], made[12]}
    assert kept == expected
    assert partial in removed and not partial.exists()
    assert made["second-today"] in removed


def test_retention_never_removes_the_only_backup(tmp_path):
    only = _fake_backup(tmp_path, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert backup.backup_prune(target_dir=tmp_path, keep_daily=0, keep_weekly=0) == []
    assert only.exists()


@pytest.mark.django_db(transaction=True)
def test_nightly_task_backs_up_prunes_and_records_the_run(backup_settings, campaign_data):
    from campaign import ops
    from transfer.tasks import backup_run

    assert settings.CELERY_BEAT_SCHEDULE["backup"]["task"] == "transfer.tasks.backup_run"
    ops.redis_client().hdel(ops.PERIODIC_KEY, "backup")
    result = backup_run()
    assert Path(settings.BACKUP_DIR, result["name"], "manifest.json").is_file()
    run = ops.periodic_runs()["backup"]
    assert run["counts"]["ok"] == 1 and run["counts"]["database_bytes"] > 0
    call_command("backup", "--check-max-age", "1", stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_check_max_age_fails_without_backups(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path
    with pytest.raises(CommandError, match="没有任何备份"):
        call_command("backup", "--check-max-age", "26")
