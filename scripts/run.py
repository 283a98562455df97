"""`make run`: servers, migrations, demo data, then web + Celery worker + beat together.

Ctrl-C stops all of them, and the embedded PostgreSQL and Redis too when this script started them,
so nothing is left running.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
PY = sys.executable
PORT = os.environ.get("PORT", "8000")
HOST = os.environ.get("HOST", "127.0.0.1")


def main() -> int:
    embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    started_services = False
    if embedded:
        from scripts import devservices

        already = devservices._port_open(devservices.PG_PORT) and devservices._port_open(
            devservices.REDIS_PORT
        )
        devservices.ensure_started(quiet=False)
        started_services = not already
    try:
        for args in (["migrate", "--noinput"], ["seed_demo"]):
            if subprocess.call([PY, "manage.py", *args]) != 0:
                return 1
        return _serve()
    finally:
        if started_services:
            from scripts import devservices

            devservices.stop()


def _serve() -> int:
    commands = {
        "web": [PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"],
        "worker": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "default,routing,escalation,mail",
            "--concurrency",
            "2",
            "-l",
            "INFO",
        ],
        "beat": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "INFO",
            "--schedule",
            str(ROOT / "var" / "celerybeat-schedule"),
        ],
    }
    procs = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()}
    print(
        f"\n门户已启动 / portal running: http://{HOST}:{PORT}/  (demo password: demo-pass-2026; Ctrl-C to stop)\n",
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the rest", file=sys.stderr)
                code, stopping = proc.returncode or 1, True
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return code


if __name__ == "__main__":
    sys.exit(main())
