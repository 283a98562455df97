"""Run the retention purge now (the beat runs it daily): identity and attachments of long-concluded tips."""

from django.core.management.base import BaseCommand, CommandError

from reports.retention import retention_years, tips_purge_expired


class Command(BaseCommand):
    help = "清除办结满 RETENTION_YEARS 年的举报的举报人身份信息和附件（保留案件记录）；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=None, help="保存年限（默认取 RETENTION_YEARS）")
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--dry-run", action="store_true", help="只统计，不清除")

    def handle(self, *args, years, batch_size: int, dry_run: bool, **options):
        years = retention_years() if years is None else years
        if years < 1:
            raise CommandError("--years 至少为 1。")
        if batch_size < 1:
            raise CommandError("--batch-size 必须为正整数。")
        report = tips_purge_expired(years=years, batch_size=batch_size, dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {report.tips} tips concluded before {report.cutoff} ({report.identities} identities, "
                f"{report.attachments} attachments, {report.bytes} bytes, {report.batches} batches)"
            )
        )
