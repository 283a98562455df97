"""Index the entities of existing tips, leads and imported cases (batched, resumable)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leads.linking.backfill import KINDS, backfill


class Command(BaseCommand):
    help = "串并实体索引补建：为已有举报、线索和已导入案件提取实体（分批，可中断后续跑）。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=["all", *KINDS], default="all")
        parser.add_argument("--batch", type=int, default=1000, help="items per transaction")
        parser.add_argument("--limit", type=int, default=None, help="stop after this many items per kind")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="re-index items already indexed (after an extraction change); resumable with --before",
        )
        parser.add_argument(
            "--before", default="", help="with --rebuild: re-index items indexed before this ISO time"
        )

    def handle(self, *args, kind, batch, limit, rebuild, before, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        cutoff = None
        if rebuild:
            cutoff = parse_datetime(before) if before else timezone.now()
            if cutoff is None:
                raise CommandError("--before must be an ISO date-time, e.g. 2026-05-01T08:00:00+08:00")
            if timezone.is_naive(cutoff):
                cutoff = timezone.make_aware(cutoff)
            self.stdout.write(
                f"rebuilding; to resume after an interruption: --rebuild --before {cutoff.isoformat()}"
            )
        kinds = KINDS if kind == "all" else (kind,)
        counts = backfill(kinds=kinds, batch=batch, before=cutoff, limit=limit, stdout=self.stdout)
        self.stdout.write(", ".join(f"{k}={v}" for k, v in counts.items()))
