"""Linking rules the office may tune: read from settings.LINKING, with these defaults."""

from django.conf import settings

DEFAULTS = {
    # Entities seen in more items than this say nothing about a pair (a hotline, a big company, 张伟).
    "HOT_MENTIONS": 300,
    "HOT_PERSON_MENTIONS": 40,
    # Per shared entity, the most recent mentions looked at (names and companies: fewer, they are weaker).
    "MENTIONS_PER_ENTITY": 60,
    "MENTIONS_PER_NAME": 20,
    # pg_trgm similarity: descriptions at least this close are suggested, accused fields at least ACCUSED.
    "SIMILARITY_MIN": 0.3,
    "SIMILARITY_ACCUSED_MIN": 0.5,
    "SIMILARITY_LOCATION_MIN": 0.5,
    # Similarity is computed over at most this many items of the same sector and region, nearest in time
    # (two thirds before the subject, one third after), on their first SIMILARITY_CHARS characters:
    # pg_trgm's similarity() costs ~0.1 ms a call on Chinese text, so this bounds the cost at any table size.
    "SIMILARITY_CANDIDATES": 300,
    "SIMILARITY_CHARS": 200,
    "SIMILARITY_LOOKBACK_DAYS": 365,
    # "Same place and sector" looks this many days either side.
    "PLACE_WINDOW_DAYS": 30,
    # Suggestions below this score are not shown; at most MAX_ITEMS are.
    "MIN_SCORE": 0.3,
    "MAX_ITEMS": 20,
    # Entities kept per item (a pasted spreadsheet must not make thousands of rows).
    "MAX_ENTITIES_PER_ITEM": 40,
    # Imports: files up to SYNC_ROWS rows are validated in the request, larger ones on a worker.
    "IMPORT_SYNC_ROWS": 1000,
    "IMPORT_MAX_ROWS": 200000,
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    "IMPORT_MAX_PROBLEMS": 500,
    # Graph: nodes drawn at most.
    "GRAPH_MAX_NODES": 120,
    # Sweep: among the newest SWEEP_WINDOW_IDS tips and leads, those without an index row (lost messages).
    "SWEEP_WINDOW_IDS": 20000,
    "SWEEP_BATCH": 500,
}


def linking_setting(name: str):
    return getattr(settings, "LINKING", {}).get(name, DEFAULTS[name])
