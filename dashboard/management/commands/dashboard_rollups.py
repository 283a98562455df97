"""Refresh the dashboard rollups: incremental by default, `--full` to rebuild, `--verify` to compare."""

from django.core.management.base import BaseCommand

from dashboard import rollups


class Command(BaseCommand):
    help = "刷新领导驾驶舱统计表：默认增量；--full 全量重建；--verify 与源数据逐行核对。"

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every rollup from the source tables")
        parser.add_argument("--verify", action="store_true", help="compare the rollups with a direct count")

    def handle(self, *args, full: bool, verify: bool, **options):
        result = rollups.rollup_refresh_full() if full else rollups.rollup_refresh_incremental()
        summary = ", ".join(f"{k}={v}" for k, v in result.as_dict().items())
        self.stdout.write(f"refresh: {summary}")
        if verify:
            drift = rollups.rollup_verify()
            self.stdout.write("verify: " + ", ".join(f"{k}={v}" for k, v in drift.items()))
            self.stdout.write("drift: none" if not any(drift.values()) else "drift: FOUND (run --full)")
