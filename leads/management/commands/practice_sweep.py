"""Run the practice sweep once (what the beat runs every five minutes); `--now` for drills and tests."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaign import ops
from leads.practice_sweep import practice_sweep


def parse_now(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO date-time: {value!r} (e.g. 2026-10-19T09:00)") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


class Command(BaseCommand):
    help = "办理规范巡检：签收催办、首次/阶段回告催报、查否线索重复举报；可重复执行，不会重复通知。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", type=parse_now, default=None, help="按此时刻计算（ISO 时间，演练和测试用）"
        )

    def handle(self, *args, **options):
        counts = practice_sweep(now=options["now"])
        ops.periodic_record("practice_sweep", **counts)
        self.stdout.write(json.dumps(counts, ensure_ascii=False))
