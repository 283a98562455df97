"""Dashboard settings the office may tune: read from settings.DASHBOARD, with these defaults."""

from django.conf import settings

DEFAULTS = {
    # A lead assigned but not signed for within this many working days counts as "triaged, not verified".
    "NOT_ACCEPTED_WORKDAYS": 3,
    # Incremental rollup refresh re-reads changes this far back, so a transaction that committed late
    # (its ids or event times lie behind the last run's watermark) is still picked up.
    "ROLLUP_OVERLAP_SECONDS": 300,
    # The dashboard warns that numbers are stale when the last refresh is older than this.
    "ROLLUP_STALE_SECONDS": 600,
    # Export files are deleted (and their links refused) this long after they were made.
    "EXPORT_TTL_HOURS": 24,
    # Progress is written every this many rows while an export runs.
    "EXPORT_PROGRESS_EVERY": 500,
}


def dashboard_setting(name: str):
    return getattr(settings, "DASHBOARD", {}).get(name, DEFAULTS[name])
