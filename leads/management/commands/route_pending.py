"""Route tips that were committed while Redis or the workers were down (what the beat runs every minute)."""

import json

from django.core.management.base import BaseCommand

from campaign import ops
from leads.intake import routing_setting, tip_route_pending


class Command(BaseCommand):
    help = "为未分析的举报生成分办建议（Redis 或 worker 停机期间提交的举报）；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=float,
            default=None,
            help=f"only tips received at least this many seconds ago (default {routing_setting('PENDING_MIN_AGE_SECONDS')})",
        )
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--max-batches", type=int, default=None)

    def handle(self, *args, min_age, batch_size, max_batches, **options):
        counts = tip_route_pending(min_age_seconds=min_age, batch_size=batch_size, max_batches=max_batches)
        ops.periodic_record("route_pending", **counts)
        self.stdout.write(json.dumps(counts, ensure_ascii=False))
