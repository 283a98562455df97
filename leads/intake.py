"""Routing of committed tips (issue 5): a proposal of units, likely duplicates and related tips and leads.

`tip_route` runs once per tip on a worker after `reports.signals.tip_committed`, and again from the
`route_pending` sweep for tips whose message was lost (Redis or the workers down at commit). Either way
the tip row is locked, `routed_at` checked and the proposal written in one transaction, so a tip is
routed exactly once however many copies of the task run. The office's triage queue shows tips with
status "new" together with the stored proposal (leads.views.triage).

Related items are found the simple way for now: the same phone, ID number, credit code, bank card,
plate or company name in recent tips (pg_trgm-indexed ILIKE) and leads, and pg_trgm similarity of the
description against recent tips of the same sector and region. The linking feature deepens this.

Settings override the defaults below: settings.LEADS["ROUTING"] = {"LOOKBACK_DAYS": 90, ...}.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
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


def routing_setting(name: str):
    return {**DEFAULTS, **getattr(settings, "LEADS", {}).get("ROUTING", {})}[name]


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


def tip_route(*, tip_id: int, skip_locked: bool = False, rules=None, now: dt.datetime | None = None) -> bool:
    """Route one tip if it is not routed yet; True when this call routed it.

    Locks the tip row, checks `routed_at`, computes and stores the proposal and a TipEvent, all in one
    transaction. A second call (a redelivered task, the sweep) changes nothing. With `skip_locked` a tip
    being routed right now by someone else is skipped instead of waited for (the sweep).
    """
    with transaction.atomic():
        tip = (
            Tip.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .select_related("sector__lead_unit", "region")
            .filter(pk=tip_id, routed_at__isnull=True)
            .first()
        )
        if tip is None:
            return False
        _test_delay()
        proposal = tip_routing_proposal(tip=tip, rules=rules, now=now)
        _tip_record_routing(tip=tip, proposal=proposal)
    return True


def _tip_record_routing(*, tip: Tip, proposal: dict) -> None:
    # reports.services has no tip_record_routing yet; this is the whole write, on the locked row. When
    # reports adds one, call it here instead.
    tip.routing_proposal = proposal
    tip.routed_at = timezone.now()
    tip.version += 1
    tip.save(update_fields=["routing_proposal", "routed_at", "version"])
    units = [u["unit_name"] for u in proposal.get("units", [])]
    note = _("系统分办建议：%(units)s；疑似重复 %(dups)s 件，可能关联 %(related)s 件。") % {
        "units": "、".join(units) or _("无匹配规则"),
        "dups": len(proposal.get("duplicates", [])),
        "related": len(proposal.get("related", [])),
    }
    TipEvent.objects.create(
        tip=tip,
        kind="routed",
        note=note,
        data={
            "units": [u["unit"] for u in proposal.get("units", [])],
            "duplicates": [d["id"] for d in proposal.get("duplicates", []) if d["kind"] == "tip"],
            "related": len(proposal.get("related", [])),
        },
    )


def tip_routing_proposal(*, tip: Tip, rules=None, now: dt.datetime | None = None) -> dict:
    """The JSON stored on Tip.routing_proposal: units (leads.routing), duplicates, related items, entities."""
    now = now or timezone.now()
    payload = routing_proposal_payload(routing_propose_for_tip(tip, rules))
    entities = [
        e
        for e in distinct(extract_entities(tip.description or "", accused=tip.accused or ""))
        if e.kind in LINK_KINDS
    ][: routing_setting("MAX_ENTITIES")]
    since = now - dt.timedelta(days=routing_setting("LOOKBACK_DAYS"))
    tips = _related_tips(tip, entities, since)
    leads = _related_leads(tip, entities, since, tips)
    duplicates = [t for t in tips if t.pop("duplicate")]
    related = sorted(tips + leads, key=lambda item: (-item["score"], item["kind"], -item["id"]))
    limit = routing_setting("MAX_ITEMS")
    payload.update(
        duplicates=duplicates[:limit],
        related=related[:limit],
        entities=[{"kind": str(e.kind), "value": mask(e.kind, e.value)} for e in entities],
        computed_at=now.isoformat(),
    )
    return payload


def _needles(entity) -> set[str]:
    """The strings to look for: the value, the text as written and, for a mobile number, its usual
    3-4-4 spellings (the linking feature's entity index will make this exact)."""
    out = {entity.value, entity.raw}
    v = entity.value
    if entity.kind == Kind.PHONE and len(v) == 11 and v.startswith("1"):
        out |= {f"{v[:3]}-{v[3:7]}-{v[7:]}", f"{v[:3]} {v[3:7]} {v[7:]}"}
    return {n for n in out if len(n) >= 3}


def _shared(entities, text: str) -> list:
    return [e for e in entities if any(n in text for n in _needles(e))]


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _related_tips(tip: Tip, entities, since: dt.datetime) -> list[dict]:
    found: dict[int, dict] = {}
    # 1. The same identifiers, through the trigram indexes on description and accused.
    if entities:
        cond = Q()
        for e in entities:
            for needle in _needles(e):
                cond |= Q(description__trgm_icontains=needle) | Q(accused__trgm_icontains=needle)
        # No ORDER BY: sorting every match of a common company name would cost more than the rest of
        # the routing; the matches are scored afterwards anyway.
        rows = (
            Tip.objects.filter(cond, received_at__gte=since)
            .exclude(pk=tip.pk)
            .order_by()
            .values("id", "tracking_code", "description", "accused")[: routing_setting("ENTITY_MATCHES")]
        )
        for row in rows:
            shared = _shared(entities, f"{row['description']}\n{row['accused']}")
            if not shared:
                continue
            found[row["id"]] = {
                "kind": "tip",
                "id": row["id"],
                "tracking_code": row["tracking_code"],
                "similarity": 0.0,
                "shared": shared,
            }
    # 2. Similar descriptions among recent tips of the same sector and region.
    where, params = ["id <> %s", "received_at >= %s"], [tip.pk, since]
    if tip.sector_id:
        where.append("sector_id = %s")
        params.append(tip.sector_id)
    if tip.region_id:
        where.append("region_id = %s")
        params.append(tip.region_id)
    sql = f"""
        SELECT id, tracking_code, s FROM (
            SELECT r.id, r.tracking_code, similarity(r.description, %s) AS s
            FROM (SELECT id, tracking_code, description FROM {Tip._meta.db_table}
                  WHERE {" AND ".join(where)} ORDER BY received_at DESC LIMIT %s) r
        ) x
        WHERE s >= %s ORDER BY s DESC, id DESC LIMIT %s
    """  # noqa: S608 — table name from model meta, values as parameters
    with connection.cursor() as cur:
        cur.execute(
            sql,
            [
                tip.description or "",
                *params,
                routing_setting("SIMILARITY_CANDIDATES"),
                routing_setting("SIMILARITY_RELATED"),
                routing_setting("MAX_ITEMS") * 2,
            ],
        )
        for tip_id, code, similarity in cur.fetchall():
            item = found.setdefault(
                tip_id, {"kind": "tip", "id": tip_id, "tracking_code": code, "similarity": 0.0, "shared": []}
            )
            item["similarity"] = float(similarity)
    if found:
        linked = dict(LeadTip.objects.filter(tip_id__in=list(found)).values_list("tip_id", "lead__number"))
    else:
        linked = {}
    out = []
    for item in found.values():
        out.append(_scored(item, lead_number=linked.get(item["id"])))
    return out


def _scored(item: dict, *, lead_number: str | None = None) -> dict:
    shared = item.pop("shared")
    similarity = item.pop("similarity")
    strong = [e for e in shared if e.kind in STRONG_KINDS]
    reasons = [
        _("相同%(kind)s %(value)s") % {"kind": KIND_LABELS[e.kind], "value": mask(e.kind, e.value)}
        for e in shared
    ]
    if similarity:
        reasons.append(_("内容相似度 %(score).2f") % {"score": similarity})
    if lead_number:
        reasons.append(_("已登记为线索 %(number)s") % {"number": lead_number})
    score = max(similarity, min(0.95, 0.5 + 0.15 * len(strong) + 0.05 * (len(shared) - len(strong))))
    item["score"] = round(score if shared else similarity, 3)
    item["reasons"] = reasons
    if item["kind"] == "tip":
        item["duplicate"] = similarity >= routing_setting("SIMILARITY_DUPLICATE") or bool(
            strong and similarity >= routing_setting("SIMILARITY_DUPLICATE_WITH_ENTITY")
        )
        if lead_number:
            item["lead_number"] = lead_number
    return item


def _related_leads(tip: Tip, entities, since: dt.datetime, tips: list[dict]) -> list[dict]:
    found: dict[int, dict] = {}
    table = Lead._meta.db_table
    with connection.cursor() as cur:
        needles = sorted({n for e in entities for n in _needles(e)})
        if needles:
            # OR of ILIKEs (not ILIKE ANY): a GIN trigram index serves each arm, not an array.
            cond = " OR ".join(["summary ILIKE %s"] * len(needles))
            cur.execute(
                f"SELECT id, number, summary, accused FROM {table} WHERE ({cond}) AND created_at >= %s LIMIT %s",  # noqa: S608
                [*(_like(n) for n in needles), since, routing_setting("ENTITY_MATCHES")],
            )
            for lead_id, number, summary, accused in cur.fetchall():
                shared = _shared(entities, f"{summary}\n{accused}")
                if shared:
                    found[lead_id] = {
                        "kind": "lead",
                        "id": lead_id,
                        "number": number,
                        "similarity": 0.0,
                        "shared": shared,
                    }
        if tip.sector_id and tip.region_id:
            cur.execute(
                f"""
                SELECT id, number, s FROM (
                    SELECT r.id, r.number, similarity(r.summary, %s) AS s
                    FROM (SELECT id, number, summary FROM {table}
                          WHERE sector_id = %s AND region_id = %s AND created_at >= %s
                          ORDER BY created_at DESC LIMIT %s) r
                ) x WHERE s >= %s ORDER BY s DESC, id DESC LIMIT %s
                """,  # noqa: S608
                [
                    tip.description or "",
                    tip.sector_id,
                    tip.region_id,
                    since,
                    routing_setting("SIMILARITY_CANDIDATES"),
                    routing_setting("SIMILARITY_RELATED"),
                    routing_setting("MAX_ITEMS"),
                ],
            )
            for lead_id, number, similarity in cur.fetchall():
                item = found.setdefault(
                    lead_id,
                    {"kind": "lead", "id": lead_id, "number": number, "similarity": 0.0, "shared": []},
                )
                item["similarity"] = float(similarity)
    # A related tip already registered as a lead makes that lead related too.
    for t in tips:
        number = t.get("lead_number")
        if number and not any(i["number"] == number for i in found.values()):
            lead = Lead.objects.filter(number=number).values("id").first()
            if lead:
                found[lead["id"]] = {
                    "kind": "lead",
                    "id": lead["id"],
                    "number": number,
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
            scored["reasons"].append(_("关联举报 %(code)s 已登记为该线索") % {"code": via})
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
        for tip_id in ids:
            try:
                done = tip_route(tip_id=tip_id, skip_locked=True, rules=rules)
            except (OperationalError, InterfaceError):
                raise  # the database is gone: let the task fail; the next beat tries again
            except Exception:
                # One tip that cannot be routed (a bug, bad data) must not hold up the others.
                logger.exception("routing: tip %s failed in route_pending", tip_id)
                counts["failed"] += 1
                continue
            counts["routed" if done else "skipped"] += 1
        if len(ids) < batch_size:
            break
    counts["ms"] = round((time.monotonic() - started) * 1000)
    return counts
