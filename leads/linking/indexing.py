"""The entity index: which phones, IDs, companies, persons … each tip, lead and imported case mentions.

Writes go through `index_items` (one item at intake, a thousand at a time in the backfill). Mention
rows are inserted with ON CONFLICT DO NOTHING and deleted with RETURNING, and `Entity.mention_count` moves
by exactly the rows that changed, so the counts stay right when the intake task, the sweep and the backfill
happen to index the same item at once. Entities are inserted and locked in (kind, value) / id order, so two
concurrent indexers never deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from . import company_key, distinct, extract_entities
from .conf import linking_setting
from .models import ImportedCase, IndexState, ItemKind

MENTION_COLUMN = {ItemKind.TIP: "tip_id", ItemKind.LEAD: "lead_id", ItemKind.CASE: "case_id"}
MAX_VALUE = 200


@dataclass(frozen=True, slots=True)
class Found:
    """One distinct entity of an item, with where it was first seen."""

    kind: str
    value: str
    key: str
    raw: str
    field: str


@dataclass
class ItemText:
    """What the index reads from one item."""

    kind: str
    id: int
    fields: dict[str, str]  # field name → text; "accused" is where person names come from
    region_id: int | None = None
    sector_id: int | None = None
    label: str = ""
    found: list[Found] = field(default_factory=list)


def entities_of(fields: dict[str, str]) -> list[Found]:
    """Distinct entities of an item's fields, first mention first (pure; no database)."""
    mentions = []
    accused = fields.get("accused", "")
    main = [(name, text) for name, text in fields.items() if name != "accused" and text]
    for i, (name, text) in enumerate(main):
        # Persons come from the accused field only (extract_entities' rule); it is read with the first field.
        for e in extract_entities(text, accused=accused if i == 0 else ""):
            mentions.append((e, "accused" if e.source == "accused" else name))
    if accused and not main:
        mentions += [(e, "accused") for e in extract_entities("", accused=accused)]
    first = {id(e): f for e, f in mentions}
    out = []
    for e in distinct(e for e, _f in mentions):
        if len(e.value) > MAX_VALUE:
            continue
        key = company_key(e.value) if e.kind == "company" else e.value
        out.append(Found(str(e.kind), e.value, key[:MAX_VALUE], e.raw[:MAX_VALUE], first[id(e)]))
    return out[: linking_setting("MAX_ENTITIES_PER_ITEM")]


# --- loading items -------------------------------------------------------------------------------
def load_tips(ids: Iterable[int]) -> list[ItemText]:
    from reports.models import Tip

    rows = Tip.objects.filter(pk__in=list(ids)).values_list(
        "pk", "description", "accused", "location", "region_id", "sector_id", "tracking_code"
    )
    return [
        ItemText(ItemKind.TIP, pk, {"description": d, "accused": a, "location": loc}, r, s, code)
        for pk, d, a, loc, r, s, code in rows
    ]


def load_leads(ids: Iterable[int]) -> list[ItemText]:
    from leads.models import Lead

    rows = Lead.objects.filter(pk__in=list(ids)).values_list(
        "pk", "summary", "accused", "region_id", "sector_id", "number"
    )
    return [
        ItemText(ItemKind.LEAD, pk, {"summary": s, "accused": a}, r, sec, number)
        for pk, s, a, r, sec, number in rows
    ]


def load_cases(ids: Iterable[int]) -> list[ItemText]:
    rows = ImportedCase.objects.filter(pk__in=list(ids)).values_list(
        "pk", "title", "description", "accused", "region_id", "sector_id", "case_number"
    )
    return [
        ItemText(ItemKind.CASE, pk, {"title": t, "description": d, "accused": a}, r, s, number)
        for pk, t, d, a, r, s, number in rows
    ]


LOADERS = {ItemKind.TIP: load_tips, ItemKind.LEAD: load_leads, ItemKind.CASE: load_cases}


# --- writing -------------------------------------------------------------------------------------
def _entity_ids(cur, found: Iterable[Found]) -> dict[tuple[str, str], int]:
    """Ids of these entities, inserting the missing ones (in (kind, value) order)."""
    keys = sorted({(f.kind, f.value): f.key for f in found}.items())
    if not keys:
        return {}
    kinds = [k for (k, _v), _key in keys]
    values = [v for (_k, v), _key in keys]
    cmp_keys = [key for _kv, key in keys]
    cur.execute(
        """
        INSERT INTO linking_entity (kind, value, key, mention_count, first_seen_at)
        SELECT k, v, c, 0, now() FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(k, v, c)
        ORDER BY k, v
        ON CONFLICT (kind, value) DO NOTHING
        """,
        [kinds, values, cmp_keys],
    )
    cur.execute(
        """
        SELECT e.id, e.kind, e.value FROM linking_entity e
        JOIN unnest(%s::text[], %s::text[]) AS u(k, v) ON e.kind = u.k AND e.value = u.v
        """,
        [kinds, values],
    )
    return {(k, v): pk for pk, k, v in cur.fetchall()}


def _adjust_counts(cur, deltas: Counter) -> None:
    deltas = {k: n for k, n in deltas.items() if n}
    if not deltas:
        return
    ids = sorted(deltas)
    cur.execute(
        """
        UPDATE linking_entity e SET mention_count = GREATEST(e.mention_count + d.n, 0)
        FROM (SELECT * FROM unnest(%s::bigint[], %s::int[]) AS u(id, n)) d
        WHERE e.id = d.id AND e.id IN (
            SELECT id FROM linking_entity WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
        )
        """,
        [ids, [deltas[i] for i in ids], ids],
    )


@dataclass
class IndexResult:
    items: int = 0
    mentions_added: int = 0
    mentions_removed: int = 0
    # (item, entity ids of the item) for the watch check of single-item indexing.
    by_item: dict = field(default_factory=dict)


def index_items(items: list[ItemText], *, now=None) -> IndexResult:
    """Write the entities of `items` (all of one kind) and their IndexState rows; call inside a transaction."""
    result = IndexResult()
    if not items:
        return result
    kind = items[0].kind
    column = MENTION_COLUMN[kind]
    now = now or timezone.now()
    for item in items:
        if not item.found:
            item.found = entities_of(item.fields)
    with connection.cursor() as cur:
        ids = _entity_ids(cur, (f for item in items for f in item.found))
        wanted: dict[int, dict[int, Found]] = {
            item.id: {ids[(f.kind, f.value)]: f for f in item.found} for item in items
        }
        item_ids = [item.id for item in items]
        cur.execute(
            f"SELECT {column}, entity_id FROM linking_entitymention WHERE {column} = ANY(%s::bigint[])",  # noqa: S608
            [item_ids],
        )
        existing: dict[int, set[int]] = {}
        for item_id, entity_id in cur.fetchall():
            existing.setdefault(item_id, set()).add(entity_id)
        deltas: Counter = Counter()
        gone_items, gone_entities = [], []
        for item in items:
            for entity_id in existing.get(item.id, set()) - wanted[item.id].keys():
                gone_items.append(item.id)
                gone_entities.append(entity_id)
        if gone_items:
            cur.execute(
                f"""
                DELETE FROM linking_entitymention m USING unnest(%s::bigint[], %s::bigint[]) AS u(i, e)
                WHERE m.{column} = u.i AND m.entity_id = u.e RETURNING m.entity_id
                """,  # noqa: S608
                [gone_items, gone_entities],
            )
            for (entity_id,) in cur.fetchall():
                deltas[entity_id] -= 1
                result.mentions_removed += 1
        rows = []
        by_item = {item.id: item for item in items}
        for item_id, entities in wanted.items():
            item = by_item[item_id]
            for entity_id, f in entities.items():
                if entity_id not in existing.get(item_id, set()):
                    rows.append((entity_id, item_id, f.field, f.raw, item.region_id, item.sector_id))
        if rows:
            cols = list(zip(*rows, strict=True))
            cur.execute(
                f"""
                INSERT INTO linking_entitymention
                    (entity_id, {column}, field, raw, region_id, sector_id, created_at)
                SELECT e, i, f, r, rg, sc, %s
                FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::bigint[])
                    AS u(e, i, f, r, rg, sc)
                ON CONFLICT DO NOTHING
                RETURNING entity_id
                """,  # noqa: S608
                [now, *[list(c) for c in cols]],
            )
            for (entity_id,) in cur.fetchall():
                deltas[entity_id] += 1
                result.mentions_added += 1
        _adjust_counts(cur, deltas)
        cur.execute(
            """
            INSERT INTO linking_indexstate (kind, item_id, indexed_at, entity_count)
            SELECT %s, i, %s, n FROM unnest(%s::bigint[], %s::int[]) AS u(i, n)
            ON CONFLICT (kind, item_id) DO UPDATE
                SET indexed_at = EXCLUDED.indexed_at, entity_count = EXCLUDED.entity_count
            """,
            [kind, now, item_ids, [len(wanted[i]) for i in item_ids]],
        )
    result.items = len(items)
    result.by_item = {item.id: (item, wanted[item.id]) for item in items}
    return result


def lock_item(kind: str, item_id: int) -> None:
    """Serialise indexing of one item (intake task, sweep, a save) for the rest of the transaction."""
    code = {ItemKind.TIP: 1, ItemKind.LEAD: 2, ItemKind.CASE: 3}[kind]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [(code << 48) | int(item_id)])


def unindexed_ids(kind: str, *, after: int = 0, limit: int = 1000, before=None) -> list[int]:
    """Ids of items of `kind` above `after` without an index row (or indexed before `before`), in id order."""
    from leads.models import Lead
    from reports.models import Tip

    table = {ItemKind.TIP: Tip, ItemKind.LEAD: Lead, ItemKind.CASE: ImportedCase}[kind]._meta.db_table
    stale = " AND s.indexed_at >= %s" if before is not None else ""
    # NOT EXISTS, so the plan walks the primary key from `after` and stops at `limit` (an anti-join per
    # row through the (kind, item_id) unique index) instead of hashing the whole index table.
    sql = f"""
        SELECT t.id FROM {table} t
        WHERE t.id > %s AND NOT EXISTS (
            SELECT 1 FROM linking_indexstate s WHERE s.kind = %s AND s.item_id = t.id{stale}
        )
        ORDER BY t.id LIMIT %s
    """  # noqa: S608 — table names from model meta
    params = [after, kind] + ([before] if before is not None else []) + [limit]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall()]


def index_batch(kind: str, ids: list[int]) -> IndexResult:
    """Index a batch of items in one transaction (backfill, load generator, sweep)."""
    with transaction.atomic():
        return index_items(LOADERS[kind](ids))


def index_state_exists(kind: str, item_id: int) -> bool:
    return IndexState.objects.filter(kind=kind, item_id=item_id).exists()
