"""The deployment files agree with the code: upload limits, private health checks, unit commands, beat."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = (ROOT / "deploy" / "nginx" / "portal.conf").read_text()


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit.lower()]


def _server_blocks() -> dict[str, str]:
    blocks = {}
    for match in re.finditer(r"server \{(.*?)\n\}", NGINX, re.S):
        names = re.search(r"server_name ([^;]+);", match.group(1))
        blocks[names.group(1) if names else "?"] = match.group(1)
    return blocks


def test_nginx_accepts_every_upload_the_portal_accepts_and_little_more():
    from reports.views.common import request_size_limit

    for name in ("jubao.example.gov.cn", "portal.internal.example.gov.cn"):
        limit = _size(re.search(r"client_max_body_size (\w+);", _server_blocks()[name]).group(1))
        assert request_size_limit() <= limit <= request_size_limit() + 8 * 2**20, name
    assert request_size_limit() > settings.ATTACHMENT_MAX_TOTAL_BYTES


def test_nginx_keeps_healthz_and_transfer_off_the_public_site():
    public = _server_blocks()["jubao.example.gov.cn"]
    healthz = re.search(r"location = /healthz \{(.*?)\}", public, re.S).group(1)
    assert "deny all;" in healthz
    assert re.search(r"location /zone-transfer/ \{ return 404; \}", public)
    transfer = _server_blocks()["transfer.jubao.example.gov.cn"]
    assert "deny all;" in transfer and "allow " in transfer
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in NGINX
    for header in (
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ):
        assert header in public
    assert "location /media/ { return 404; }" in public


def test_systemd_units_run_the_real_entry_points():
    units = {p.name: p.read_text() for p in (ROOT / "deploy" / "systemd").iterdir()}
    assert "config.wsgi" in units["portal-web@.service"] and "PORTAL_ZONE=%i" in units["portal-web@.service"]
    assert "celery -A config worker" in units["portal-worker@.service"]
    assert "--queues %i" in units["portal-worker@.service"]
    assert "celery -A config beat" in units["portal-beat.service"]
    assert "manage.py backup" in units["portal-backup@.service"]
    assert "OnCalendar=" in units["portal-backup@.timer"]
    for name, text in units.items():
        if name.endswith(".service"):
            assert "User=portal" in text and "NoNewPrivileges=yes" in text, name
    from config.celery import app

    app.loader.import_default_modules()
    for queue in ("routing", "escalation", "mail", "default"):
        assert queue in {q.name for q in settings.CELERY_TASK_QUEUES}


def test_environment_examples_name_the_settings_the_zones_need():
    internal = (ROOT / "deploy" / "env" / "internal.env.example").read_text()
    public = (ROOT / "deploy" / "env" / "public.env.example").read_text()
    for name in ("ZONE_TRANSFER_KEY", "PIN_HASH_KEY", "DATABASE_URL", "BACKUP_DIR", "PORT"):
        assert f"\n{name}=" in internal and f"\n{name}=" in public
    assert "PORTAL_ZONE=internal" in internal and "ZONE_PUBLIC_URL=" in internal
    assert "PORTAL_ZONE=public" in public and "ZONE_SEAL_PUBLIC_KEY=" in public


def test_beat_runs_the_backup_daily_and_the_transfer_every_minute():
    from celery.schedules import crontab

    from config.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["backup"]["task"] == "transfer.tasks.backup_run"
    assert isinstance(schedule["backup"]["schedule"], crontab)
    assert schedule["zone-transfer"]["task"] == "transfer.tasks.zone_transfer"
    assert schedule["zone-transfer"]["schedule"] == 60.0
    app.loader.import_default_modules()
    assert {"transfer.tasks.backup_run", "transfer.tasks.zone_transfer"} <= set(app.tasks)


def test_transfer_task_does_nothing_outside_an_internal_zone(settings):
    from transfer.tasks import zone_transfer

    settings.PORTAL_ZONE = "all"
    assert zone_transfer() == {"skipped": 1}
    settings.PORTAL_ZONE = "internal"
    settings.ZONE_PUBLIC_URL = ""
    assert zone_transfer() == {"skipped": 1}


def test_deployment_guide_covers_monitoring_and_the_restore_drill_exists():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for topic in ("/healthz", "queues", "transfer status", "backup --check-max-age", "client_max_body_size"):
        assert topic in guide
    readme = (ROOT / "README.md").read_text()
    assert "## Restore drill" in readme
    assert "manage.py restore" in readme.split("## Restore drill", 1)[1]


def test_nginx_example_passes_nginx_t(tmp_path):
    """Where nginx is installed, the example (with throwaway certificates) must pass `nginx -t`."""
    import shutil
    import subprocess

    import pytest

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    openssl = shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx or openssl not installed")
    (tmp_path / "logs").mkdir()
    names = set(re.findall(r"/etc/nginx/tls/([\w.]+)\.key", NGINX))
    for name in names:
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                f"/CN={name}",
                "-days",
                "1",
                "-keyout",
                str(tmp_path / f"{name}.key"),
                "-out",
                str(tmp_path / f"{name}.fullchain.pem"),
            ],
            check=True,
            capture_output=True,
        )
    conf = (
        NGINX.replace("/etc/nginx/tls/", f"{tmp_path}/")
        .replace("/etc/nginx/portal_proxy_params", str(ROOT / "deploy" / "nginx" / "portal_proxy_params"))
        .replace("/var/log/nginx/", f"{tmp_path}/logs/")
    )
    (tmp_path / "portal.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  include {tmp_path}/portal.conf;\n}}\n"
    )
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
