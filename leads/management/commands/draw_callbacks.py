"""Draw the call-back sample (回访) of one month's closed leads; the beat does last month on the 1st."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leads.practice import callback_draw, month_start


class Command(BaseCommand):
    help = "抽取回访样本：从指定月份（默认上月）办结、举报人实名的线索中随机抽取；每月只抽一次。"

    def add_arguments(self, parser):
        parser.add_argument("--month", default="", help="YYYY-MM，默认上月")

    def handle(self, *args, **options):
        if options["month"]:
            try:
                month = dt.datetime.strptime(options["month"], "%Y-%m").date()
            except ValueError as exc:
                raise CommandError("--month: 格式应为 YYYY-MM") from exc
        else:
            month = month_start(month_start(timezone.localdate()) - dt.timedelta(days=1))
        drawn = callback_draw(month=month)
        self.stdout.write(f"{month:%Y-%m}: {drawn}")
