"""Batched, resumable indexing of existing items (the `linking_backfill` command and the load generator).

Resumable without bookkeeping: each batch takes the next ids above the last one that have no index row
(or, when rebuilding, an index row older than the run's start), so an interrupted run simply starts again.
"""

from __future__ import annotations

import datetime as dt
import time

from .indexing import index_batch, unindexed_ids
from .models import ItemKind

KINDS = (ItemKind.TIP, ItemKind.LEAD, ItemKind.CASE)


def backfill(
    *,
    kinds=KINDS,
    batch: int = 1000,
    before: dt.datetime | None = None,
    limit: int | None = None,
    stdout=None,
) -> dict:
    """Index every item of `kinds` without an index row (with `before`: also those indexed before it)."""
    counts: dict[str, int] = {}
    for kind in kinds:
        done = mentions = 0
        last = 0
        started = time.monotonic()
        while limit is None or done < limit:
            size = batch if limit is None else min(batch, limit - done)
            ids = unindexed_ids(kind, after=last, limit=size, before=before)
            if not ids:
                break
            result = index_batch(kind, ids)
            done += len(ids)
            mentions += result.mentions_added
            last = ids[-1]
            if stdout is not None:
                rate = done / max(time.monotonic() - started, 0.001)
                stdout.write(f"  {kind}: {done} indexed, {mentions} mentions, up to id {last} ({rate:.0f}/s)")
        counts[kind] = done
        counts[f"{kind}_mentions"] = mentions
    return counts
