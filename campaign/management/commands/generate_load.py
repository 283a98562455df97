"""Generate a realistic data set for benchmarks: N tips and, in proportion, leads and assignments."""

import time

from django.core.management.base import BaseCommand

from campaign import demo


class Command(BaseCommand):
    help = "生成压测数据：--tips N 条举报（及按比例生成的线索、分办）。"

    def add_arguments(self, parser):
        parser.add_argument("--tips", type=int, required=True, help="number of tips to create")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")

    def handle(self, *args, tips: int, seed: int, **options):
        demo.seed_campaign()
        for _order, name, loader in demo.loaders():
            started = time.monotonic()
            result = loader(tips=tips, stdout=self.stdout, seed=seed) or {}
            summary = ", ".join(f"{k}={v}" for k, v in result.items())
            self.stdout.write(f"[{name}] {summary} in {time.monotonic() - started:.1f}s")
