"""Time the dashboard selectors in-process (warm): `manage.py dashboard_bench [--runs 7]`.

The benchmark harness (bench/run.py) times dashboard.selectors.overview(filters) and matrix(filters)
the same way; this command prints the figures docs/dashboard-performance.md quotes.
"""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import selectors
from dashboard.filters import filters_from_params


class Command(BaseCommand):
    help = "驾驶舱查询耗时（进程内、预热后的中位数）。"

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=7)
        parser.add_argument("--pages", action="store_true", help="also time the pages (view + template)")

    def handle(self, *args, runs: int, **options):
        cases = {
            "phase (default)": {},
            "this month": {"period": "month"},
            "this year": {"period": "year"},
            "3 years": {"period": "custom", "date_from": "2023-11-01", "date_to": "2026-12-31"},
            "phase + region": {"region": "wuzhi"},
            "phase + sector + channel": {"sector": "construction", "channel": "online"},
        }
        funcs = {
            "overview": selectors.overview,
            "matrix": selectors.matrix,
            "channels": selectors.channels,
            "units": selectors.units,
        }
        self.stdout.write(f"{'case':28} {'selector':9} {'median ms':>10} {'max ms':>8} {'queries':>8}")
        for name, params in cases.items():
            filters, form = filters_from_params(params)
            assert filters is not None, form.errors
            for fname, func in funcs.items():
                func(filters)  # warm
                times = []
                for _ in range(runs):
                    with CaptureQueriesContext(connection) as ctx:
                        started = time.perf_counter()
                        func(filters)
                        times.append((time.perf_counter() - started) * 1000)
                med = statistics.median(times)
                self.stdout.write(
                    f"{name:28} {fname:9} {med:10.1f} {max(times):8.1f} {len(ctx.captured_queries):8}"
                )
        if options["pages"]:
            self._pages(runs)

    def _pages(self, runs: int) -> None:
        """Whole pages as the leader sees them (view, selectors, template), without the network."""
        from django.contrib.sessions.backends.db import SessionStore
        from django.test import RequestFactory
        from django.urls import resolve

        from campaign.models import User

        leader = User.objects.get(username="leader")
        factory = RequestFactory(HTTP_HOST="127.0.0.1")
        self.stdout.write(f"\n{'page':28} {'':9} {'median ms':>10} {'max ms':>8} {'bytes':>8}")
        for url in ("/dashboard/", "/dashboard/matrix/", "/dashboard/channels/", "/dashboard/units/"):
            match = resolve(url)
            times, size = [], 0
            for i in range(runs + 1):
                request = factory.get(url)
                request.user = leader
                request.session = SessionStore()
                started = time.perf_counter()
                response = match.func(request, *match.args, **match.kwargs)
                elapsed = (time.perf_counter() - started) * 1000
                size = len(response.content)
                if i:  # the first is the warm-up
                    times.append(elapsed)
            self.stdout.write(
                f"{url:28} {'page':9} {statistics.median(times):10.1f} {max(times):8.1f} {size:8}"
            )
