"""Run the escalation sweep once (what the beat runs every five minutes); `--now` for drills and tests."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaign import ops
from leads.escalation import escalation_sweep


def parse_now(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO date-time: {value!r} (e.g. 2026-10-19T09:00)") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


class Command(BaseCommand):
    help = "督办升级：到期前催办、超期通知、督办、问责建议，以及交办后未签收提醒；可重复执行，不会重复通知。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            type=parse_now,
            default=None,
            help="evaluate the calendar at this ISO time (local time zone when no offset), e.g. 2026-10-19T09:00",
        )
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, now, batch_size, **options):
        counts = escalation_sweep(now=now, batch_size=batch_size)
        if now is not None:
            counts["as_of"] = now.isoformat()
        ops.periodic_record("escalate_overdue", **counts)
        self.stdout.write(json.dumps(counts, ensure_ascii=False))
