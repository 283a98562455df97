"""Run pytest with the project's environment: embedded servers started first, browser flags set."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright in one process

if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
    from scripts import devservices

    devservices.ensure_started()

import pytest  # noqa: E402

code = pytest.main(sys.argv[1:])
sys.exit(int(code))
