"""Reference rows by code (sectors, regions), kept per process for a short time.

Every public submission resolves a sector and a region code. The rows change a few times a year,
through the admin, so a copy kept for REFERENCE_CACHE_SECONDS (60 by default; 0 turns it off, as the
tests do) saves two queries per tip and shows an edited name for at most that long. Only rows that
exist are kept, so unknown codes sent by clients cannot grow the cache.
"""

from __future__ import annotations

import time

from django.conf import settings

_rows: dict[tuple[str, str], tuple[object, float]] = {}


def by_code(model, code: str):
    """The `model` row whose `code` is `code`, or None."""
    ttl = getattr(settings, "REFERENCE_CACHE_SECONDS", 60)
    key = (model._meta.label, code)
    now = time.monotonic()
    hit = _rows.get(key)
    if hit is not None and hit[1] > now:
        return hit[0]
    row = model._default_manager.filter(code=code).first()
    if row is not None and ttl > 0:
        _rows[key] = (row, now + ttl)
    return row
