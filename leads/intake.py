"""Routing of committed tips (issue 5): a proposal of units, likely duplicates and related tips and leads.

`tip_route` runs once per tip on a worker after `reports.signals.tip_committed`, and again from the
`route_pending` sweep for tips whose message was lost (Redis or the workers down at commit). Either way
the tip row is locked, `routed_at` checked and the proposal written in one transaction, so a tip is
routed exactly once however many copies of the task run. The office's triage queue shows tips with
status "new" together with the stored proposal (leads.views.triage).

Related items: the same phone, ID number, credit code, bank card, plate or company name in recent tips
and leads (the linking feature's entity index, which routing fills for the tip first), and pg_trgm's
similarity of the description against the most recent tips and leads of the same sector and region
(computed in Python on trigram sets cached between tips; `trigrams` is pg_trgm's definition).

Throughput (issue 10, docs/benchmarks.md): the routing task routes its tip together with other waiting
tips (`tip_route_batch`): one transaction, a few queries and bulk writes per batch. The same message also
indexes the tips for linking and checks them for repeat reports of closed leads, so a tip costs one
message on the routing queue.

Settings override the defaults below: settings.LEADS["ROUTING"] = {"LOOKBACK_DAYS": 90, ...}.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.models import Tip, TipEvent

from .linking import Kind, distinct, extract_entities, mask
from .models import Lead, LeadTip
from .routing import routing_proposal_payload, routing_propose_for_tip, routing_rules_load

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Candidates: tips and leads received/registered within this many days (a repeated report usually
    # follows the first within weeks).
    "LOOKBACK_DAYS": 180,
    # pg_trgm similarity of descriptions: at least RELATED to be shown, DUPLICATE to be called a duplicate.
    "SIMILARITY_RELATED": 0.3,
    "SIMILARITY_DUPLICATE": 0.7,
    # A shared strong identifier (phone, ID number …) plus this much similarity is a likely duplicate too.
    "SIMILARITY_DUPLICATE_WITH_ENTITY": 0.45,
    # Similarity is computed over at most this many of the most recent tips of the same sector/region
    # (each comparison of two Chinese texts costs ~0.05–0.1 ms; this bounds a tip's routing time).
    "SIMILARITY_CANDIDATES": 500,
    # Tips sharing one identifier fetched at most (an identifier in thousands of tips is no lead).
    "ENTITY_MATCHES": 50,
    "MAX_ENTITIES": 8,
    "MAX_ITEMS": 10,
    # route_pending: tips this old (seconds) without routing are picked up; batch bounds per run.
    "PENDING_MIN_AGE_SECONDS": 30,
    # Tips routed per transaction: the routing task takes its own tip and this many - 1 other waiting ones
    # (SKIP LOCKED); the sweep routes its batch in chunks of this size.
    "BATCH": 100,
    "PENDING_BATCH": 200,
    "PENDING_MAX_BATCHES": 25,
}

# Identifiers specific enough to link two reports on their own; person names are not (too common).
STRONG_KINDS = (Kind.PHONE, Kind.ID_NUMBER, Kind.USCC, Kind.BANK_CARD, Kind.PLATE)
LINK_KINDS = (*STRONG_KINDS, Kind.COMPANY)
KIND_LABELS = {
    Kind.PHONE: gettext_lazy("电话"),
    Kind.ID_NUMBER: gettext_lazy("身份证号"),
    Kind.USCC: gettext_lazy("统一社会信用代码"),
    Kind.BANK_CARD: gettext_lazy("银行卡号"),
    Kind.PLATE: gettext_lazy("车牌"),
    Kind.COMPANY: gettext_lazy("单位名称"),
}


_SETTINGS: list = [None, DEFAULTS]  # [the settings' ROUTING dict, DEFAULTS merged with it]


def routing_setting(name: str):
    # Called for every candidate of every tip: the merged dict is kept while the settings' one is the same.
    overrides = getattr(settings, "LEADS", {}).get("ROUTING", {})
    if overrides is not _SETTINGS[0]:
        _SETTINGS[:] = [overrides, {**DEFAULTS, **overrides}]
    return _SETTINGS[1][name]


# --- enqueue -------------------------------------------------------------------------------------
def tip_route_enqueue(*, tip_id: int) -> bool:
    """Queue routing of a committed tip. Never raises: with Redis down the route_pending sweep routes it."""
    from .tasks import route_tip

    try:
        # One quick retry covers a pooled connection that went stale when Redis restarted; more would
        # hold up the informant's request while Redis is down.
        route_tip.apply_async(
            kwargs={"tip_id": tip_id},
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:
        logger.warning("routing: could not queue tip %s; route_pending will route it", tip_id, exc_info=True)
        return False
    return True


# --- routing -------------------------------------------------------------------------------------
def _test_delay() -> None:
    # Tests kill a worker in the middle of a routing task (tests/workers): ROUTING_TEST_DELAY seconds
    # spent holding the tip's lock, before anything is written. Never set in production.
    delay = float(os.environ.get("ROUTING_TEST_DELAY") or 0)
    if delay > 0:
        time.sleep(delay)


# Tips this process has routed (committed). `routed_at` is never cleared, so a message for one of them
# (its batch was routed by this process before the message came up) is answered without a query.
_ROUTED_HERE: set[int] = set()
_ROUTED_HERE_MAX = 200_000


def _remember_routed(ids) -> None:
    if len(_ROUTED_HERE) > _ROUTED_HERE_MAX:
        _ROUTED_HERE.clear()
    _ROUTED_HERE.update(ids)


def tip_route(*, tip_id: int, skip_locked: bool = False, rules=None, now: dt.datetime | None = None) -> bool:
    """Route one tip if it is not routed yet; True when this call routed it.

    Locks the tip row, checks `routed_at`, computes and stores the proposal and a TipEvent, all in one
    transaction. A second call (a redelivered task, the sweep) changes nothing. With `skip_locked` a tip
    being routed right now by someone else is skipped instead of waited for (the sweep).
    """
    routed, _failed = _route_tips([tip_id], skip_locked=skip_locked, rules=rules, now=now, raise_errors=True)
    return tip_id in routed


def tip_route_batch(*, tip_id: int, batch: int | None = None, now: dt.datetime | None = None) -> int:
    """The routing task's work: route this tip and up to `batch` - 1 other tips waiting for routing.

    Under load the routing queue holds one message per tip; the first message routes a batch in one
    transaction (shared candidate sets, bulk writes), and the messages of the others find their tip routed
    (without a query when this process routed it). The tip of the message is waited for when another
    worker holds it; the others are taken with SKIP LOCKED, so two workers never route one tip twice and
    never wait for each other. Returns how many tips this call routed.
    """
    if tip_id in _ROUTED_HERE:
        return 0
    batch = batch or routing_setting("BATCH")
    routed, _failed = _route_tips([tip_id], extra=batch - 1, now=now, raise_errors=True)
    return len(routed)


def _route_tips(
    ids: list[int],
    *,
    extra: int = 0,
    skip_locked: bool = False,
    rules=None,
    now: dt.datetime | None = None,
    raise_errors: bool = False,
) -> tuple[set[int], set[int]]:
    """Lock the unrouted tips among `ids` (and up to `extra` other unrouted ones, SKIP LOCKED), index
    them, compute and store their proposals and events in one transaction; after commit, check them for
    repeat reports. Returns (routed ids, ids whose proposal failed; those are left unrouted)."""
    failed: set[int] = set()
    with transaction.atomic():
        base = Tip.objects.select_related("sector__lead_unit", "region").filter(routed_at__isnull=True)
        tips = list(
            base.select_for_update(skip_locked=skip_locked, of=("self",)).filter(pk__in=ids).order_by("pk")
        )
        if not tips:
            return set(), failed
        if extra > 0:
            tips += list(
                base.select_for_update(skip_locked=True, of=("self",))
                .exclude(pk__in=ids)
                .order_by("pk")[:extra]
            )
        _test_delay()
        now = now or timezone.now()
        rules = routing_rules_load() if rules is None else rules
        _index_tips(tips)
        context = RoutingContext(tips, now=now)
        proposals = {}
        for tip in tips:
            try:
                proposals[tip.pk] = tip_routing_proposal(tip=tip, rules=rules, now=now, context=context)
            except Exception:
                if raise_errors and len(tips) == 1:
                    raise
                # One tip that cannot be routed (a bug, bad data) must not hold up the others; it stays
                # unrouted and the sweep reports it.
                logger.exception("routing: tip %s failed", tip.pk)
                failed.add(tip.pk)
        done = [t for t in tips if t.pk in proposals]
        _tips_record_routing(tips=done, proposals=proposals)
        routed = {t.pk for t in done}
        transaction.on_commit(lambda: _remember_routed(routed))
    _repeat_check(done, now=now)
    return routed, failed


def _index_tips(tips: list[Tip]) -> None:
    """Index the tips' entities (the linking index, idempotent) and alert units watching them: what the
    linking feature does for each committed tip, done here so that one message per tip does both."""
    from .linking.indexing import ItemKind, load_tips
    from .linking.services import watch_check, watch_flags_active

    keys = sorted((1 << 48) | t.pk for t in tips)  # leads.linking.indexing.lock_item's keys, in order
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s", [keys]
        )
    items = load_tips([t.pk for t in tips])
    from .linking.indexing import index_items

    index_items(items)
    flags = watch_flags_active()
    if flags:
        for item in items:
            assert item.kind == ItemKind.TIP
            watch_check(item=item, flags=flags)


def _repeat_check(tips: list[Tip], *, now: dt.datetime) -> None:
    if not tips:
        return
    from .practice import repeat_check_tips

    try:
        repeat_check_tips(tips=tips, now=now)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        # The routing is committed; the practice sweep checks repeat reports again.
        logger.exception("routing: repeat-report check failed for tips %s", [t.pk for t in tips])


def _tips_record_routing(*, tips: list[Tip], proposals: dict[int, dict]) -> None:
    # reports.services has no tip_record_routing yet; this is the whole write, on the locked rows (one
    # UPDATE and one INSERT for the batch). When reports adds one, call it here instead.
    if not tips:
        return
    at = timezone.now()
    encoder = Tip._meta.get_field("routing_proposal").encoder
    with connection.cursor() as cur:
        cur.execute(
            f"""
            UPDATE {Tip._meta.db_table} t
            SET routing_proposal = u.value, routed_at = %s, version = t.version + 1
            FROM jsonb_each(%s::jsonb) AS u WHERE t.id = u.key::bigint
            """,  # noqa: S608 — table name from model meta
            # One JSON object {id: proposal}: a text[] of large JSON strings costs more to send.
            [at, json.dumps({str(t.pk): proposals[t.pk] for t in tips}, cls=encoder)],
        )
    events = []
    for tip in tips:
        proposal = proposals[tip.pk]
        tip.routing_proposal, tip.routed_at, tip.version = proposal, at, tip.version + 1
        units = [u["unit_name"] for u in proposal.get("units", [])]
        note = _("系统分办建议：%(units)s；疑似重复 %(dups)s 件，可能关联 %(related)s 件。") % {
            "units": "、".join(units) or _("无匹配规则"),
            "dups": len(proposal.get("duplicates", [])),
            "related": len(proposal.get("related", [])),
        }
        events.append(
            TipEvent(
                tip=tip,
                at=at,
                kind="routed",
                note=note,
                data={
                    "units": [u["unit"] for u in proposal.get("units", [])],
                    "duplicates": [d["id"] for d in proposal.get("duplicates", []) if d["kind"] == "tip"],
                    "related": len(proposal.get("related", [])),
                },
            )
        )
    TipEvent.objects.bulk_create(events)


def tip_routing_proposal(
    *, tip: Tip, rules=None, now: dt.datetime | None = None, context: RoutingContext | None = None
) -> dict:
    """The JSON stored on Tip.routing_proposal: units (leads.routing), duplicates, related items, entities.

    `context` holds what a batch of tips shares (candidate sets, entity matches); without one it is
    built for this tip alone."""
    now = now or timezone.now()
    context = context or RoutingContext([tip], now=now)
    payload = routing_proposal_payload(routing_propose_for_tip(tip, rules))
    entities = context.entities[tip.pk]
    tips = _related_tips(tip, context)
    leads = _related_leads(tip, context, tips)
    duplicates = [t for t in tips if t.pop("duplicate")]
    related = sorted(tips + leads, key=lambda item: (-item["score"], item["kind"], -item["id"]))
    limit = routing_setting("MAX_ITEMS")
    payload.update(
        duplicates=[_explain(t) for t in duplicates[:limit]],
        related=[_explain(t) for t in related[:limit]],
        entities=[{"kind": str(e.kind), "value": mask(e.kind, e.value)} for e in entities],
        computed_at=now.isoformat(),
    )
    return payload


# --- similarity: pg_trgm's, computed here on cached trigram sets ---------------------------------
_WORD_RE = re.compile(r"[^\W_]+")


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of `text`: words (runs of letters and digits) lower-cased, padded with two
    spaces before and one after, every three consecutive characters."""
    out: set[str] = set()
    for word in _WORD_RE.findall((text or "").lower()):
        padded = f"  {word} "
        out.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(out)


def trigram_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """pg_trgm's similarity(): shared trigrams / all distinct trigrams of both."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _most_similar(grams: frozenset, candidates, *, related: float, keep: int, limit: int, skip=None) -> list:
    """The `keep` candidates most similar to `grams` (at least `related`), of the first `limit` (not
    counting `skip`): [(id, code, similarity)], most similar first. The loop of trigram_similarity,
    inlined: it runs SIMILARITY_CANDIDATES times per tip."""
    n = len(grams)
    found = []
    if n:
        seen = 0
        for pk, code, other, m in candidates:
            if pk == skip:
                continue
            seen += 1
            if seen > limit:
                break
            common = len(grams & other)
            if common and common >= related * (n + m - common):
                found.append((pk, code, common / (n + m - common)))
    found.sort(key=lambda r: (-r[2], -r[0]))
    return found[:keep]


class _TrigramCache:
    """Trigram sets of candidate texts by (kind, id), kept while the text is unchanged: consecutive tips
    of one sector and region are compared with mostly the same recent tips.

    Bounded in memory, not only in entries: a set of ~100 trigram strings is ~13 KB when each set owns its
    strings, so the strings are shared (one object per distinct trigram, as texts of one city repeat
    them), and the entries carry a hash of their text rather than the text. At `size` entries or
    `max_trigrams` distinct trigrams everything is dropped and rebuilt as tips arrive (a 10-minute soak
    showed the worker growing by 80 MB with 50,000 unshared entries allowed)."""

    def __init__(self, size: int = 10_000, max_trigrams: int = 200_000):
        self.size = size
        self.max_trigrams = max_trigrams
        self.data: dict[tuple[str, int], tuple[int, tuple[frozenset[str], int]]] = {}
        self.shared: dict[str, str] = {}

    def get(self, kind: str, pk: int, text: str) -> tuple[frozenset[str], int]:
        digest = hash(text)
        hit = self.data.get((kind, pk))
        if hit is not None and hit[0] == digest:
            return hit[1]
        if len(self.data) >= self.size or len(self.shared) >= self.max_trigrams:
            self.data.clear()
            self.shared.clear()
        shared = self.shared
        grams = frozenset(shared.setdefault(g, g) for g in trigrams(text))
        self.data[(kind, pk)] = (digest, (grams, len(grams)))
        return grams, len(grams)


_TRIGRAMS = _TrigramCache()


class RoutingContext:
    """What routing a batch of tips needs from the database, fetched once for the batch:

    - each tip's identifiers (phone, ID number, company …) and the other tips and leads that mention the
      same ones, through the linking feature's entity index (newest ENTITY_MATCHES per identifier);
    - per sector and region, the SIMILARITY_CANDIDATES most recent tips (and leads) and their trigrams.
    """

    def __init__(self, tips: list[Tip], *, now: dt.datetime):
        self.since = now - dt.timedelta(days=routing_setting("LOOKBACK_DAYS"))
        self.entities = {
            t.pk: [
                e
                for e in distinct(extract_entities(t.description or "", accused=t.accused or ""))
                if e.kind in LINK_KINDS
            ][: routing_setting("MAX_ENTITIES")]
            for t in tips
        }
        self._entity_matches(tips)
        self._candidates(tips)
        self._linked_leads()

    def _entity_matches(self, tips: list[Tip]) -> None:
        # (kind, value) → entity id, then who else mentions each entity (newest first, bounded).
        self.shared_tips: dict[int, dict[int, list]] = {t.pk: {} for t in tips}
        self.shared_leads: dict[int, dict[int, list]] = {t.pk: {} for t in tips}
        self.tip_rows: dict[int, str] = {}
        self.lead_rows: dict[int, str] = {}
        wanted = sorted({(str(e.kind), e.value) for es in self.entities.values() for e in es})
        if not wanted:
            return
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT e.id, e.kind, e.value, m.tip_id, m.lead_id
                FROM linking_entity e
                JOIN unnest(%s::text[], %s::text[]) AS u(k, v) ON e.kind = u.k AND e.value = u.v
                CROSS JOIN LATERAL (
                    SELECT tip_id, lead_id FROM linking_entitymention
                    WHERE entity_id = e.id ORDER BY id DESC LIMIT %s
                ) m
                """,
                [[k for k, _v in wanted], [v for _k, v in wanted], routing_setting("ENTITY_MATCHES")],
            )
            tips_by_key: dict[tuple[str, str], set[int]] = {}
            leads_by_key: dict[tuple[str, str], set[int]] = {}
            for _id, kind, value, tip_id, lead_id in cur.fetchall():
                if tip_id:
                    tips_by_key.setdefault((kind, value), set()).add(tip_id)
                elif lead_id:
                    leads_by_key.setdefault((kind, value), set()).add(lead_id)
            tip_ids = sorted({i for s in tips_by_key.values() for i in s})
            lead_ids = sorted({i for s in leads_by_key.values() for i in s})
            if tip_ids:
                cur.execute(
                    f"SELECT id, tracking_code FROM {Tip._meta.db_table} WHERE id = ANY(%s) AND received_at >= %s",  # noqa: S608
                    [tip_ids, self.since],
                )
                self.tip_rows = dict(cur.fetchall())
            if lead_ids:
                cur.execute(
                    f"SELECT id, number FROM {Lead._meta.db_table} WHERE id = ANY(%s) AND created_at >= %s",  # noqa: S608
                    [lead_ids, self.since],
                )
                self.lead_rows = dict(cur.fetchall())
        for tip in tips:
            for e in self.entities[tip.pk]:
                key = (str(e.kind), e.value)
                for other in tips_by_key.get(key, ()):
                    if other != tip.pk and other in self.tip_rows:
                        self.shared_tips[tip.pk].setdefault(other, []).append(e)
                for lead_id in leads_by_key.get(key, ()):
                    if lead_id in self.lead_rows:
                        self.shared_leads[tip.pk].setdefault(lead_id, []).append(e)

    def _candidates(self, tips: list[Tip]) -> None:
        limit = routing_setting("SIMILARITY_CANDIDATES")
        # cell → [(id, tracking code or number, trigrams, number of trigrams)], newest first
        self.tip_cells: dict[tuple, list[tuple[int, str, frozenset, int]]] = {}
        self.lead_cells: dict[tuple, list[tuple[int, str, frozenset, int]]] = {}
        with connection.cursor() as cur:
            for cell in sorted({(t.sector_id, t.region_id) for t in tips}, key=str):
                where, params = ["received_at >= %s"], [self.since]
                for column, value in zip(("sector_id", "region_id"), cell, strict=True):
                    if value:
                        where.append(f"{column} = %s")
                        params.append(value)
                # One more than the limit: each tip leaves itself out of its own candidates.
                cur.execute(
                    f"SELECT id, tracking_code, description FROM {Tip._meta.db_table} "  # noqa: S608
                    f"WHERE {' AND '.join(where)} ORDER BY received_at DESC LIMIT %s",
                    [*params, limit + 1],
                )
                get = _TRIGRAMS.get
                self.tip_cells[cell] = [
                    (pk, code, *get("tip", pk, text or "")) for pk, code, text in cur.fetchall()
                ]
                if all(cell):
                    cur.execute(
                        f"SELECT id, number, summary FROM {Lead._meta.db_table} "  # noqa: S608
                        "WHERE sector_id = %s AND region_id = %s AND created_at >= %s "
                        "ORDER BY created_at DESC LIMIT %s",
                        [*cell, self.since, limit],
                    )
                    self.lead_cells[cell] = [
                        (pk, number, *get("lead", pk, text or "")) for pk, number, text in cur.fetchall()
                    ]
        self.similar_tips: dict[int, list[tuple[int, str, float]]] = {}
        self.similar_leads: dict[int, list[tuple[int, str, float]]] = {}
        related = routing_setting("SIMILARITY_RELATED")
        keep = routing_setting("MAX_ITEMS")
        for tip in tips:
            grams = trigrams(tip.description or "")
            cell = (tip.sector_id, tip.region_id)
            self.similar_tips[tip.pk] = _most_similar(
                grams, self.tip_cells[cell], related=related, keep=keep * 2, limit=limit, skip=tip.pk
            )
            self.similar_leads[tip.pk] = _most_similar(
                grams, self.lead_cells.get(cell, []), related=related, keep=keep, limit=limit
            )

    def _linked_leads(self) -> None:
        """Related tips already registered as leads: tip id → (lead id, lead number)."""
        ids = set()
        for tip_id in self.shared_tips:
            ids |= set(self.shared_tips[tip_id]) | {pk for pk, _c, _s in self.similar_tips[tip_id]}
        self.linked: dict[int, tuple[int, str]] = {}
        if ids:
            self.linked = {
                tip_id: (lead_id, number)
                for tip_id, lead_id, number in LeadTip.objects.filter(tip_id__in=ids).values_list(
                    "tip_id", "lead_id", "lead__number"
                )
            }


def _related_tips(tip: Tip, context: RoutingContext) -> list[dict]:
    found: dict[int, dict] = {}
    # 1. The same identifiers (the entity index).
    for other, shared in context.shared_tips[tip.pk].items():
        found[other] = {
            "kind": "tip",
            "id": other,
            "tracking_code": context.tip_rows[other],
            "similarity": 0.0,
            "shared": shared,
        }
    # 2. Similar descriptions among recent tips of the same sector and region.
    for tip_id, code, similarity in context.similar_tips[tip.pk]:
        item = found.setdefault(
            tip_id, {"kind": "tip", "id": tip_id, "tracking_code": code, "similarity": 0.0, "shared": []}
        )
        item["similarity"] = round(similarity, 6)
    out = []
    for item in found.values():
        lead = context.linked.get(item["id"])
        out.append(_scored(item, lead_number=lead[1] if lead else None))
    return out


def _scored(item: dict, *, lead_number: str | None = None) -> dict:
    """Score `item`; its reasons are written by `_explain`, only for the items the proposal keeps."""
    shared = item.pop("shared")
    similarity = item.pop("similarity")
    strong = [e for e in shared if e.kind in STRONG_KINDS]
    score = max(similarity, min(0.95, 0.5 + 0.15 * len(strong) + 0.05 * (len(shared) - len(strong))))
    item["score"] = round(score if shared else similarity, 3)
    item["_why"] = [shared, similarity, lead_number, None]
    if item["kind"] == "tip":
        item["duplicate"] = similarity >= routing_setting("SIMILARITY_DUPLICATE") or bool(
            strong and similarity >= routing_setting("SIMILARITY_DUPLICATE_WITH_ENTITY")
        )
        if lead_number:
            item["lead_number"] = lead_number
    return item


def _explain(item: dict) -> dict:
    if "_why" not in item:
        return item  # the same item in duplicates and related
    shared, similarity, lead_number, via = item.pop("_why")
    reasons = [
        _("相同%(kind)s %(value)s") % {"kind": KIND_LABELS[e.kind], "value": mask(e.kind, e.value)}
        for e in shared
    ]
    if similarity:
        reasons.append(_("内容相似度 %(score).2f") % {"score": similarity})
    if lead_number:
        reasons.append(_("已登记为线索 %(number)s") % {"number": lead_number})
    if via:
        reasons.append(_("关联举报 %(code)s 已登记为该线索") % {"code": via})
    item["reasons"] = reasons
    return item


def _related_leads(tip: Tip, context: RoutingContext, tips: list[dict]) -> list[dict]:
    found: dict[int, dict] = {}
    for lead_id, shared in context.shared_leads[tip.pk].items():
        found[lead_id] = {
            "kind": "lead",
            "id": lead_id,
            "number": context.lead_rows[lead_id],
            "similarity": 0.0,
            "shared": shared,
        }
    for lead_id, number, similarity in context.similar_leads[tip.pk]:
        item = found.setdefault(
            lead_id, {"kind": "lead", "id": lead_id, "number": number, "similarity": 0.0, "shared": []}
        )
        item["similarity"] = round(similarity, 6)
    # A related tip already registered as a lead makes that lead related too.
    for t in tips:
        lead = context.linked.get(t["id"])
        if lead and lead[0] not in found:
            found[lead[0]] = {
                "kind": "lead",
                "id": lead[0],
                "number": lead[1],
                "similarity": 0.0,
                "shared": [],
                "via": t["tracking_code"],
            }
    out = []
    for item in found.values():
        via = item.pop("via", None)
        scored = _scored(item)
        if via:
            scored["score"] = max(
                scored["score"], next(t["score"] for t in tips if t["tracking_code"] == via)
            )
            scored["_why"][3] = via
        out.append(scored)
    return out


# --- the catch-up sweep --------------------------------------------------------------------------
def tip_route_pending(
    *,
    min_age_seconds: float | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Route tips nobody routed (their message was lost): bounded batches over the tip_unrouted index.

    Tips younger than `min_age_seconds` are left to their on-commit task. Each tip is locked with SKIP
    LOCKED, so a tip a worker is routing right now is skipped, and two sweeps never route one tip twice.
    """
    now = now or timezone.now()
    min_age = routing_setting("PENDING_MIN_AGE_SECONDS") if min_age_seconds is None else min_age_seconds
    batch_size = batch_size or routing_setting("PENDING_BATCH")
    max_batches = max_batches or routing_setting("PENDING_MAX_BATCHES")
    cutoff = now - dt.timedelta(seconds=min_age)
    counts = {"routed": 0, "skipped": 0, "failed": 0}
    last_id = 0
    started = time.monotonic()
    for _n in range(max_batches):
        ids = list(
            Tip.objects.filter(routed_at__isnull=True, received_at__lt=cutoff, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_id = ids[-1]
        rules = routing_rules_load()
        step = routing_setting("BATCH")
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            try:
                routed, failed = _route_tips(chunk, skip_locked=True, rules=rules)
            except (OperationalError, InterfaceError):
                raise  # the database is gone: let the task fail; the next beat tries again
            except Exception:
                # Something failed for the chunk as a whole: route its tips one by one, so that one tip
                # that cannot be routed (a bug, bad data) does not hold up the others.
                logger.exception("routing: a batch failed in route_pending; routing its tips one by one")
                routed, failed = set(), set()
                for tip_id in chunk:
                    try:
                        if tip_route(tip_id=tip_id, skip_locked=True, rules=rules):
                            routed.add(tip_id)
                    except (OperationalError, InterfaceError):
                        raise
                    except Exception:
                        logger.exception("routing: tip %s failed in route_pending", tip_id)
                        failed.add(tip_id)
            counts["routed"] += len(routed)
            counts["failed"] += len(failed)
            counts["skipped"] += len(chunk) - len(routed) - len(failed)
        if len(ids) < batch_size:
            break
    counts["ms"] = round((time.monotonic() - started) * 1000)
    return counts
