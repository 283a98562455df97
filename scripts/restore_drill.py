"""Restore drill: restore a backup into a new, empty database next to the running portal, check it, drop it.

    .venv/bin/python scripts/restore_drill.py                 # newest backup under BACKUP_DIR
    .venv/bin/python scripts/restore_drill.py var/backups/portal-20260301T023000Z --keep

Uses the server DATABASE_URL points to (or the embedded one), creates `<db>_drill_<time>`, runs
`manage.py restore` into it with an empty media folder, and prints what to open with --keep.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="backup folder (default: the newest)")
    parser.add_argument("--keep", action="store_true", help="keep the drill database and media folder")
    args = parser.parse_args()

    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.db import connection

    from transfer import backup

    folder = args.folder
    if folder is None:
        found = backup.backup_list()
        if not found:
            print(f"no backups under {settings.BACKUP_DIR}: run `manage.py backup` first", file=sys.stderr)
            return 1
        folder = found[0].path
    db = settings.DATABASES["default"]
    drill = f"{db['NAME']}_drill_{dt.datetime.now():%Y%m%d%H%M%S}"
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{drill}"')
    media = Path(tempfile.mkdtemp(prefix="portal-drill-media-"))
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    url = f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{drill}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "PRIVATE_MEDIA_ROOT": str(media),
    }
    print(f"restoring {folder} into {drill} (media {media})")
    code = subprocess.call([sys.executable, "manage.py", "restore", str(folder)], env=env)
    if code == 0:
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
        print("key tables:", ", ".join(f"{k}={v}" for k, v in manifest.get("key_tables", {}).items()))
    if args.keep:
        print(
            f"kept. Look at it with:\n  DATABASE_URL={url} PRIVATE_MEDIA_ROOT={media} "
            f"{sys.executable} manage.py runserver 127.0.0.1:8100"
        )
        return code
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)')
    shutil.rmtree(media, ignore_errors=True)
    print("drill " + ("passed" if code == 0 else "FAILED") + "; drill database and media removed")
    return code


if __name__ == "__main__":
    sys.exit(main())
