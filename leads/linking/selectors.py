"""Reads for linking: related items of a tip or lead (linked and suggested, with reasons), scoped by the
owners' selectors; labels and visibility of items; repeat targets; watch flags.

Suggestions are ranked by a noisy-or of their reasons: shared identifiers (from the entity index), pg_trgm
similarity of description and accused over a narrowed candidate set (the same sector and region, nearest
in time — never the whole table), and "same place and sector within 30 days". A constant number of queries
whatever the number of candidates (tests hold it to a budget).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from campaign.roles import Role

from . import mask
from .access import WATCH_ALL_ROLES, can_see_cases
from .conf import linking_setting
from .indexing import entities_of
from .models import (
    CaseKind,
    Dismissal,
    Entity,
    EntityKind,
    ImportedCase,
    IndexState,
    ItemKind,
    Link,
    WatchFlag,
    WatchHit,
)
from .services import CASE, LEAD, TIP, Ref, pair_filter, watch_display

# How much one shared entity says about a pair (combined as a noisy-or with the other reasons).
WEIGHTS = {
    EntityKind.ID_NUMBER: 0.7,
    EntityKind.PHONE: 0.6,
    EntityKind.USCC: 0.6,
    EntityKind.BANK_CARD: 0.6,
    EntityKind.PLATE: 0.5,
    EntityKind.COMPANY: 0.45,
    EntityKind.PERSON: 0.3,
    EntityKind.ALIAS: 0.25,
}
REASON_LABEL = {
    EntityKind.PHONE: N_("同一电话"),
    EntityKind.ID_NUMBER: N_("同一身份证号"),
    EntityKind.USCC: N_("同一统一社会信用代码"),
    EntityKind.BANK_CARD: N_("同一银行卡号"),
    EntityKind.PLATE: N_("同一车牌"),
    EntityKind.COMPANY: N_("同一公司"),
    EntityKind.PERSON: N_("同一人员"),
    EntityKind.ALIAS: N_("同一绰号"),
}
PLACE_WEIGHT = 0.35
# At most this many company names may share a company key for it to count as "the same company".
COMPANY_KEY_MAX = 12
ACCUSED_FACTOR = 0.6
# Numbers are masked wherever they are shown: a number in a tip may be the informant's own.
MASKED_KINDS = (EntityKind.PHONE, EntityKind.ID_NUMBER, EntityKind.BANK_CARD)


def entity_display(kind: str, value: str) -> str:
    return mask(kind, value) if kind in MASKED_KINDS else value


# --- items: visibility, labels, links --------------------------------------------------------------
def visible_tips(user):
    from reports.selectors import tip_list_visible_to

    return tip_list_visible_to(user)


def visible_leads(user):
    from leads.selectors import lead_list_visible_to

    return lead_list_visible_to(user)


def ref_visible(user, ref: Ref) -> bool:
    if ref.kind == ItemKind.TIP:
        return visible_tips(user).filter(pk=ref.id).exists()
    if ref.kind == ItemKind.LEAD:
        return visible_leads(user).filter(pk=ref.id).exists()
    if ref.kind == ItemKind.CASE:
        return can_see_cases(user) and ImportedCase.objects.filter(pk=ref.id).exists()
    return False


def ref_url(ref: Ref) -> str:
    name = {
        ItemKind.TIP: "reports:tip_detail",
        ItemKind.LEAD: "leads:detail",
        ItemKind.CASE: "linking:case_detail",
    }
    return reverse(name[ref.kind], args=[ref.id])


def ref_labels(refs) -> dict[Ref, str]:
    """Tracking code, lead number or case number of each ref (no scoping: for messages and audit)."""
    from leads.models import Lead
    from reports.models import Tip

    out: dict[Ref, str] = {}
    by_kind: dict[str, list[int]] = defaultdict(list)
    for ref in refs:
        by_kind[ref.kind].append(ref.id)
    sources = {
        ItemKind.TIP: (Tip, "tracking_code"),
        ItemKind.LEAD: (Lead, "number"),
        ItemKind.CASE: (ImportedCase, "case_number"),
    }
    for kind, ids in by_kind.items():
        model, column = sources[kind]
        for pk, label in model.objects.filter(pk__in=ids).values_list("pk", column):
            out[Ref(kind, pk)] = label
    return out


@dataclass
class RelatedItem:
    ref: Ref
    code: str = ""
    title: str = ""
    status: str = "suggested"  # "linked", "suggested" (or "mention" on an entity's page)
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    date: dt.date | dt.datetime | None = None
    # Raw values; labels and the URL are made on first use, so only the items shown pay for them.
    raw_state: str = ""
    raw_extra: str = ""
    lead_number: str = ""

    @property
    def kind(self) -> str:
        return self.ref.kind

    @property
    def kind_label(self) -> str:
        return str(ItemKind(self.ref.kind).label)

    @property
    def id(self) -> int:
        return self.ref.id

    @cached_property
    def url(self) -> str:
        return ref_url(self.ref)

    @cached_property
    def state(self) -> str:
        """The item's own status, readable."""
        from leads.models import LeadStatus
        from reports.models import TipStatus

        if self.kind == TIP:
            return str(TipStatus(self.raw_state).label)
        if self.kind == LEAD:
            return str(LeadStatus(self.raw_state).label)
        return _("已有案件")

    @cached_property
    def extra(self) -> str:
        """Channel (and lead) of a tip, kind of a case."""
        from reports.models import Channel

        if self.kind == TIP:
            text = str(Channel(self.raw_extra).label)
            if self.lead_number:
                text += " · " + _("线索 %(number)s") % {"number": self.lead_number}
            return text
        if self.kind == CASE:
            return str(CaseKind(self.raw_extra).label)
        return ""


@dataclass
class FlagView:
    flag: WatchFlag
    display: str
    show_reason: bool
    matched: str = ""


@dataclass
class Related:
    subject: Ref
    items: list[RelatedItem]
    flags: list[FlagView]
    hidden: int = 0  # dismissed suggestions not shown
    can_link: bool = False

    @property
    def linked(self) -> list[RelatedItem]:
        return [i for i in self.items if i.status == "linked"]

    @property
    def suggested(self) -> list[RelatedItem]:
        return [i for i in self.items if i.status == "suggested"]


# --- the subject ---------------------------------------------------------------------------------
@dataclass
class _Subject:
    ref: Ref
    text: str
    accused: str
    location: str
    sector_id: int | None
    region_id: int | None
    at: dt.datetime
    tip_ids: list[int]  # tips whose entities count as the subject's (the tip; a lead's tips)
    lead_ids: list[int]
    lead_of_tip: int | None = None
    fields: dict = field(default_factory=dict)


def _own_entities(subject: _Subject) -> list[tuple]:
    """(id, kind, value, key, mention_count, own) of the subject's entities and, for companies, entities with
    the same company key (焦作市某某建筑有限公司 = 河南省焦作市某某建筑有限责任公司)."""
    indexed = IndexState.objects.filter(kind=subject.ref.kind, item_id=subject.ref.id).exists()
    with connection.cursor() as cur:
        if indexed:
            own_sql = """
                SELECT DISTINCT e.id, e.kind, e.value, e.key, e.mention_count FROM linking_entitymention m
                JOIN linking_entity e ON e.id = m.entity_id
                WHERE m.tip_id = ANY(%s::bigint[]) OR m.lead_id = ANY(%s::bigint[])
            """
            params = [subject.tip_ids, subject.lead_ids]
        else:
            # Not indexed yet (its task is on its way): read the entities from the text itself.
            found = entities_of(subject.fields)
            if not found:
                return []
            own_sql = """
                SELECT e.id, e.kind, e.value, e.key, e.mention_count FROM linking_entity e
                JOIN unnest(%s::text[], %s::text[]) AS u(k, v) ON e.kind = u.k AND e.value = u.v
            """
            params = [[f.kind for f in found], [f.value for f in found]]
        cur.execute(
            f"""
            WITH own AS MATERIALIZED ({own_sql})
            SELECT id, kind, value, key, mention_count, TRUE FROM own
            UNION ALL
            SELECT id, kind, value, key, mention_count, FALSE FROM (
                SELECT e.*, count(*) OVER (PARTITION BY o.id) AS n FROM own o
                CROSS JOIN LATERAL (
                    SELECT x.id, x.kind, x.value, x.key, x.mention_count FROM linking_entity x
                    WHERE x.kind = 'company' AND x.key = o.key ORDER BY x.id LIMIT %s
                ) e
                WHERE o.kind = 'company' AND char_length(o.key) >= 2
            ) t
            -- A key shared by many names is generic (山下农家乐), not the same company.
            WHERE n <= %s AND id NOT IN (SELECT id FROM own)
            """,  # noqa: S608 — fixed SQL
            [*params, COMPANY_KEY_MAX + 1, COMPANY_KEY_MAX],
        )
        return cur.fetchall()


def _mention_limit(kind: str) -> int:
    """Most recent mentions read per entity: fewer for names, which alone are weak reasons."""
    if kind in ("person", "alias", "company"):
        return linking_setting("MENTIONS_PER_NAME")
    return linking_setting("MENTIONS_PER_ENTITY")


def _usable(kind: str, count: int) -> bool:
    hot = linking_setting("HOT_PERSON_MENTIONS" if kind in ("person", "alias") else "HOT_MENTIONS")
    return count <= hot


def _shared_entities(subject: _Subject) -> dict[Ref, dict[int, tuple[str, str]]]:
    """Other items sharing an entity with the subject: {ref: {entity id: (kind, shown value)}}."""
    rows = _own_entities(subject)
    own_company = {r[3]: r[2] for r in rows if r[5] and r[1] == EntityKind.COMPANY}
    entities = {}
    for pk, kind, value, key, count, own in rows:
        if not _usable(kind, count):
            continue
        shown = value if own or kind != EntityKind.COMPANY else own_company.get(key, value)
        entities[pk] = (kind, entity_display(kind, shown))
    if not entities:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT u.id, x.tip_id, x.lead_id, x.case_id
            FROM unnest(%s::bigint[], %s::int[]) AS u(id, n)
            CROSS JOIN LATERAL (
                SELECT tip_id, lead_id, case_id FROM linking_entitymention
                WHERE entity_id = u.id ORDER BY id DESC LIMIT u.n
            ) x
            """,
            [list(entities), [_mention_limit(kind) for kind, _shown in entities.values()]],
        )
        out: dict[Ref, dict[int, tuple[str, str]]] = defaultdict(dict)
        for entity_id, tip_id, lead_id, case_id in cur.fetchall():
            if tip_id:
                ref = Ref(TIP, tip_id)
            elif lead_id:
                ref = Ref(LEAD, lead_id)
            else:
                ref = Ref(CASE, case_id)
            out[ref][entity_id] = entities[entity_id]
    return out


def _similar(subject: _Subject, *, cases: bool) -> dict[Ref, dict]:
    """pg_trgm similarity over the items nearest in time in the subject's sector and region.

    Each candidate scan is bounded (SIMILARITY_CANDIDATES, split before/after the subject's date) and
    served by the (sector, region, …) indexes, so the cost does not grow with the table.
    """
    from leads.models import Lead
    from reports.models import Tip

    out: dict[Ref, dict] = {}
    chars = linking_setting("SIMILARITY_CHARS")
    text = (subject.text or "")[:chars]
    if not text and not subject.accused:
        return out
    n = linking_setting("SIMILARITY_CANDIDATES")
    lookback = dt.timedelta(days=linking_setting("SIMILARITY_LOOKBACK_DAYS"))
    window = dt.timedelta(days=linking_setting("PLACE_WINDOW_DAYS"))
    at = subject.at
    params_common = {
        "text": text,
        "chars": chars,
        "accused": (subject.accused or "")[:500],
        "location": (subject.location or "")[:200],
        "min": linking_setting("SIMILARITY_MIN"),
        "amin": linking_setting("SIMILARITY_ACCUSED_MIN"),
        "lmin": linking_setting("SIMILARITY_LOCATION_MIN"),
        "at": at,
        "lo": at - lookback,
        "hi": at + lookback,
        "wlo": at - window,
        "whi": at + window,
    }
    scans = []
    where = []
    if subject.sector_id:
        where.append("sector_id = %(sector)s")
    if subject.region_id:
        where.append("region_id = %(region)s")
    # Tips (description, accused, location) and leads (summary, accused), scoped to sector and region.
    scans.append(
        (ItemKind.TIP, Tip._meta.db_table, "description", "accused", "location", "received_at", where)
    )
    if subject.sector_id and subject.region_id:
        scans.append((ItemKind.LEAD, Lead._meta.db_table, "summary", "accused", "''", "created_at", where))
    if cases and subject.region_id:
        case_where = ["region_id = %(region)s"]
        scans.append(
            (
                ItemKind.CASE,
                ImportedCase._meta.db_table,
                "description",
                "accused",
                "''",
                "occurred_at",
                case_where + ["occurred_at IS NOT NULL"],
            )
        )
    with connection.cursor() as cur:
        for kind, table, text_col, accused_col, location_col, at_col, conds in scans:
            cond = " AND ".join(conds) or "TRUE"
            # Leads and cases are fewer than tips: a third of the candidates covers a longer time.
            size = n if kind == ItemKind.TIP else n // 3
            params_common.update(before=size * 2 // 3, after=size - size * 2 // 3)
            cur.execute(
                f"""
                WITH c AS MATERIALIZED (
                    (SELECT id, left({text_col}, %(chars)s) AS t, {accused_col} AS a, {location_col} AS l, {at_col} AS at
                     FROM {table} WHERE {cond} AND {at_col} <= %(at)s AND {at_col} >= %(lo)s
                     ORDER BY {at_col} DESC LIMIT %(before)s)
                    UNION ALL
                    (SELECT id, left({text_col}, %(chars)s), {accused_col}, {location_col}, {at_col}
                     FROM {table} WHERE {cond} AND {at_col} > %(at)s AND {at_col} <= %(hi)s
                     ORDER BY {at_col} ASC LIMIT %(after)s)
                ), s AS MATERIALIZED (  -- each similarity computed once per row (they dominate the cost)
                    SELECT id, at,
                        similarity(t, %(text)s) AS sd,
                        CASE WHEN %(accused)s <> '' AND a <> '' THEN similarity(a, %(accused)s) ELSE 0 END AS sa,
                        CASE WHEN %(location)s <> '' AND l <> '' AND at BETWEEN %(wlo)s AND %(whi)s
                             THEN similarity(l, %(location)s) ELSE 0 END AS sl
                    FROM c
                )
                SELECT id, sd, sa, sl, at FROM s
                WHERE sd >= %(min)s OR sa >= %(amin)s OR (sl >= %(lmin)s AND at BETWEEN %(wlo)s AND %(whi)s)
                ORDER BY GREATEST(sd, sa * {ACCUSED_FACTOR}) DESC LIMIT 40
                """,  # noqa: S608 — identifiers from model meta, values as parameters
                {**params_common, "sector": subject.sector_id, "region": subject.region_id},
            )
            for pk, sd, sa, sl, item_at in cur.fetchall():
                place = bool(
                    kind == ItemKind.TIP
                    and subject.ref.kind == ItemKind.TIP
                    and subject.sector_id
                    and subject.region_id
                    and sl >= params_common["lmin"]
                    and item_at is not None
                    and abs(item_at - at) <= window
                )
                out[Ref(kind, pk)] = {"description": float(sd), "accused": float(sa), "place": place}
    return out


_NAMED = frozenset({"person", "company", "alias"})
_KIND_ORDER = {str(kind): i for i, kind in enumerate(WEIGHTS)}
_WEIGHT = {str(kind): w for kind, w in WEIGHTS.items()}


def _reason_specs(shared: dict[int, tuple[str, str]], sim: dict | None, limits: tuple) -> list[tuple]:
    """(weight, kind of reason, value) of each reason; strings are made only for the items shown."""
    sim_min, accused_min = limits
    values = shared.values()
    if len(values) > 1:
        values = sorted(values, key=lambda ks: (_KIND_ORDER[ks[0]], ks[1]))
    specs = [(_WEIGHT[kind], kind, shown) for kind, shown in values]
    if sim:
        if sim["description"] >= sim_min:
            specs.append((sim["description"], "description", sim["description"]))
        if sim["accused"] >= accused_min and not any(k in _NAMED for k, _v in shared.values()):
            specs.append((sim["accused"] * ACCUSED_FACTOR, "accused", sim["accused"]))
        if sim["place"]:
            specs.append((PLACE_WEIGHT, "place", None))
    return specs


def _score(specs: list[tuple]) -> float:
    miss = 1.0
    for weight, _kind, _value in specs:
        miss *= 1.0 - min(weight, 0.99)
    return round(1.0 - miss, 3)


def _reason_texts(specs: list[tuple]) -> list[str]:
    texts = []
    for _weight, kind, value in specs:
        if kind == "description":
            texts.append(_("描述相似 %(s).2f") % {"s": value})
        elif kind == "accused":
            texts.append(_("被举报对象相似 %(s).2f") % {"s": value})
        elif kind == "place":
            texts.append(_("同一地点和领域（%(days)s天内）") % {"days": linking_setting("PLACE_WINDOW_DAYS")})
        else:
            texts.append(f"{_(REASON_LABEL[kind])} {value}")
    return texts


# --- related -------------------------------------------------------------------------------------
def _describe(user, refs: set[Ref]) -> dict[Ref, RelatedItem]:
    """Display data of the refs `user` may see (one query per kind); invisible ones are left out."""
    out: dict[Ref, RelatedItem] = {}
    tip_ids = [r.id for r in refs if r.kind == TIP]
    lead_ids = [r.id for r in refs if r.kind == LEAD]
    case_ids = [r.id for r in refs if r.kind == CASE]
    if tip_ids:
        rows = (
            visible_tips(user)
            .filter(pk__in=tip_ids)
            .annotate(snippet=Substr("description", 1, 80))
            .values_list(
                "pk",
                "tracking_code",
                "status",
                "channel",
                "received_at",
                "snippet",
                "lead_link__lead__number",
            )
        )
        for pk, code, status, channel, at, snippet, number in rows:
            ref = Ref(TIP, pk)
            out[ref] = RelatedItem(
                ref=ref,
                code=code,
                title=snippet,
                date=at,
                raw_state=status,
                raw_extra=channel,
                lead_number=number or "",
            )
    if lead_ids:
        rows = (
            visible_leads(user)
            .filter(pk__in=lead_ids)
            .annotate(snippet=Substr("summary", 1, 80))
            .values_list("pk", "number", "status", "created_at", "snippet")
        )
        for pk, number, status, at, snippet in rows:
            ref = Ref(LEAD, pk)
            out[ref] = RelatedItem(ref=ref, code=number, title=snippet, date=at, raw_state=status)
    if case_ids and can_see_cases(user):
        rows = ImportedCase.objects.filter(pk__in=case_ids).values_list(
            "pk", "case_number", "kind", "title", "occurred_at"
        )
        for pk, number, kind, title, at in rows:
            ref = Ref(CASE, pk)
            out[ref] = RelatedItem(ref=ref, code=number, title=title[:80], date=at, raw_extra=kind)
    return out


def _links(subject: _Subject) -> tuple[dict[Ref, list[str]], set[Ref]]:
    """Items linked to the subject ({ref: reasons}) and the refs that are part of the subject itself."""
    from leads.models import LeadTip

    linked: dict[Ref, list[str]] = defaultdict(list)
    own = {subject.ref} | {Ref(TIP, t) for t in subject.tip_ids}
    own |= {Ref(LEAD, lead_id) for lead_id in subject.lead_ids}
    members = [subject.ref] + [Ref(TIP, t) for t in subject.tip_ids if Ref(TIP, t) != subject.ref]
    cond = Q()
    for ref in members:
        cond |= pair_filter(ref)
    for link in Link.objects.filter(cond).select_related("created_by"):
        a, b = Ref(link.a_kind, link.a_id), Ref(link.b_kind, link.b_id)
        other = b if a in own else a
        if other in own:
            continue
        linked[other].append(
            _("已串并（%(who)s %(when)s）")
            % {"who": link.created_by, "when": timezone.localtime(link.created_at).strftime("%Y-%m-%d")}
        )
    if subject.ref.kind == ItemKind.TIP and subject.lead_of_tip:
        lead_ref = Ref(LEAD, subject.lead_of_tip)
        number = None
        for tip_id, number in LeadTip.objects.filter(lead_id=subject.lead_of_tip).values_list(
            "tip_id", "lead__number"
        ):
            if tip_id != subject.ref.id:
                linked[Ref(TIP, tip_id)].append(_("同属线索 %(number)s") % {"number": number})
        linked[lead_ref].append(_("本举报所属线索"))
    return linked, own


def _flags(user, subject: Ref) -> list[FlagView]:
    today = timezone.localdate()
    hits = (
        WatchHit.objects.filter(item_kind=subject.kind, item_id=subject.id, flag__lifted_at__isnull=True)
        .filter(flag__ends_on__gte=today)
        .select_related("flag", "flag__unit")
    )
    out = []
    for hit in hits:
        flag = hit.flag
        show = user.role in WATCH_ALL_ROLES or (user.unit_id is not None and user.unit_id == flag.unit_id)
        out.append(FlagView(flag=flag, display=watch_display(flag), show_reason=show, matched=hit.matched))
    return out


def _related(user, subject: _Subject) -> Related:
    from .access import can_link

    cases = can_see_cases(user)
    shared = _shared_entities(subject)
    similar = _similar(subject, cases=cases)
    linked, own = _links(subject)
    dismissed = set()
    for d in Dismissal.objects.filter(pair_filter(subject.ref)).values_list(
        "a_kind", "a_id", "b_kind", "b_id"
    ):
        a, b = Ref(d[0], d[1]), Ref(d[2], d[3])
        dismissed.add(b if a == subject.ref else a)
    candidates: dict[Ref, tuple[float, list[tuple]]] = {}
    limits = (linking_setting("SIMILARITY_MIN"), linking_setting("SIMILARITY_ACCUSED_MIN"))
    min_score = linking_setting("MIN_SCORE")
    for ref in set(shared) | set(similar):
        if ref in own or ref in linked or (ref.kind == ItemKind.CASE and not cases):
            continue
        specs = _reason_specs(shared.get(ref, {}), similar.get(ref), limits)
        score = _score(specs)
        if specs and score >= min_score:
            candidates[ref] = (score, specs)
    hidden = {ref for ref in candidates if ref in dismissed}
    # Rank before the visibility query, and ask only for a bounded number (plus a margin for the invisible).
    ranked = sorted(
        (r for r in candidates if r not in hidden), key=lambda r: (-candidates[r][0], r.kind, -r.id)
    )
    limit = linking_setting("MAX_ITEMS")
    wanted = set(ranked[: limit * 3]) | set(linked)
    described = _describe(user, wanted)
    items: list[RelatedItem] = []
    for ref, reasons in linked.items():
        if ref in described:
            item = described[ref]
            item.status, item.score, item.reasons = "linked", 1.0, reasons
            items.append(item)
    items.sort(key=lambda i: (i.kind != ItemKind.LEAD, i.code))
    suggested = []
    for ref in ranked:
        if ref in described and len(suggested) < limit:
            item = described[ref]
            item.score = candidates[ref][0]
            item.reasons = _reason_texts(candidates[ref][1])
            suggested.append(item)
    return Related(
        subject=subject.ref,
        items=items + suggested,
        flags=_flags(user, subject.ref),
        hidden=len(hidden),
        can_link=can_link(user),
    )


def related_for_tip(*, tip, user) -> Related:
    """Linked and suggested items for a tip, as `user` may see them (the caller has checked the tip)."""
    lead_id = getattr(getattr(tip, "lead_link", None), "lead_id", None) if _has_lead_link(tip) else None
    subject = _Subject(
        ref=Ref(TIP, tip.pk),
        text=tip.description or "",
        accused=tip.accused or "",
        location=tip.location or "",
        sector_id=tip.sector_id,
        region_id=tip.region_id,
        at=tip.received_at,
        tip_ids=[tip.pk],
        lead_ids=[],
        lead_of_tip=lead_id,
        fields={
            "description": tip.description or "",
            "accused": tip.accused or "",
            "location": tip.location or "",
        },
    )
    return _related(user, subject)


def _has_lead_link(tip) -> bool:
    from leads.models import LeadTip

    try:
        return tip.lead_link is not None
    except LeadTip.DoesNotExist:
        return False


def related_for_lead(*, lead, user) -> Related:
    """Linked and suggested items for a lead: its own text and entities plus its tips' entities."""
    from leads.models import LeadTip

    tip_ids = list(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True))
    subject = _Subject(
        ref=Ref(LEAD, lead.pk),
        text=lead.summary or "",
        accused=lead.accused or "",
        location="",
        sector_id=lead.sector_id,
        region_id=lead.region_id,
        at=lead.created_at,
        tip_ids=tip_ids,
        lead_ids=[lead.pk],
        fields={"summary": lead.summary or "", "accused": lead.accused or ""},
    )
    return _related(user, subject)


# --- subjects for pages and API (scoped: out of scope is the same 404 as missing) -----------------
def tip_for_related(*, user, tip_id: int):
    from django.http import Http404

    from reports.models import Tip

    try:
        return visible_tips(user).select_related("lead_link").get(pk=tip_id)
    except Tip.DoesNotExist as exc:
        raise Http404 from exc


def lead_for_related(*, user, lead_id: int):
    from django.shortcuts import get_object_or_404

    return get_object_or_404(visible_leads(user), pk=lead_id)


def flags_for_item(user, ref: Ref) -> list[FlagView]:
    return _flags(user, ref)


# --- watch flags ---------------------------------------------------------------------------------
def watch_list_visible_to(user):
    """Flags the user reads: office and leaders all; units their own unit's."""
    qs = WatchFlag.objects.select_related("unit", "created_by")
    if user.role in WATCH_ALL_ROLES:
        return qs
    if user.unit_id:
        return qs.filter(unit_id=user.unit_id)
    return qs.none()


def watch_list(user, *, state: str = "active"):
    today = timezone.localdate()
    qs = watch_list_visible_to(user)
    if state == "active":
        qs = qs.filter(lifted_at__isnull=True, ends_on__gte=today)
    elif state == "ended":
        qs = qs.filter(Q(lifted_at__isnull=False) | Q(ends_on__lt=today))
    from django.db.models import Count

    return qs.annotate(hit_count=Count("hits")).order_by("-created_at", "-id")


def watch_hits(user, flag: WatchFlag) -> list[dict]:
    """A flag's hits; items the user may not open are listed without a link."""
    hits = list(flag.hits.order_by("-at", "-id")[:200])
    refs = {Ref(h.item_kind, h.item_id) for h in hits}
    described = _describe(user, refs)
    return [
        {
            "hit": h,
            "item": described.get(Ref(h.item_kind, h.item_id)),
            "kind_label": ItemKind(h.item_kind).label,
        }
        for h in hits
    ]


# --- entities ------------------------------------------------------------------------------------
def entity_mentions(user, entity: Entity, *, limit: int = 100) -> list[RelatedItem]:
    rows = list(
        entity.mentions.order_by("-id").values_list("tip_id", "lead_id", "case_id", "field")[: limit * 2]
    )
    refs = []
    field_of = {}
    for tip_id, lead_id, case_id, name in rows:
        ref = Ref(TIP, tip_id) if tip_id else Ref(LEAD, lead_id) if lead_id else Ref(CASE, case_id)
        refs.append(ref)
        field_of[ref] = name
    described = _describe(user, set(refs))
    out = []
    for ref in refs:
        if ref in described and len(out) < limit:
            item = described[ref]
            item.status = "mention"
            item.reasons = [
                _("见于：%(field)s") % {"field": _(FIELD_LABELS.get(field_of[ref], field_of[ref]))}
            ]
            out.append(item)
    return out


FIELD_LABELS = {
    "description": N_("举报内容"),
    "accused": N_("被举报人/单位"),
    "location": N_("地点"),
    "summary": N_("线索摘要"),
    "title": N_("案件名称"),
}


REPEAT_CANDIDATES = 1500
REPEAT_CACHE_SECONDS = 300


def repeat_targets(*, kind: str = "", spread_only: bool = True, limit: int = 200) -> list[dict]:
    """Entities seen in several tips, leads or cases, with how many regions and sectors they span.

    Candidates are the most-mentioned entities (partial index on mention_count ≥ 2), common person names
    left out; the aggregate runs over their mentions only and is cached for a few minutes.
    """
    key = f"linking:repeat:{kind}:{int(spread_only)}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    kinds = [kind] if kind in EntityKind.values else [k for k in EntityKind.values if k != EntityKind.PLACE]
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH c AS (
                SELECT id, kind, value, mention_count FROM linking_entity
                WHERE mention_count >= 2 AND kind = ANY(%s::text[])
                  AND (kind NOT IN ('person', 'alias') OR mention_count <= %s)
                ORDER BY mention_count DESC, id LIMIT %s
            )
            SELECT c.id, c.kind, c.value, c.mention_count,
                   count(DISTINCT m.region_id), count(DISTINCT m.sector_id),
                   count(m.tip_id), count(m.lead_id), count(m.case_id),
                   max(m.created_at)
            FROM c JOIN linking_entitymention m ON m.entity_id = c.id
            GROUP BY c.id, c.kind, c.value, c.mention_count
            HAVING %s = FALSE OR count(DISTINCT m.region_id) >= 2 OR count(DISTINCT m.sector_id) >= 2
            ORDER BY count(DISTINCT m.region_id) + count(DISTINCT m.sector_id) DESC, c.mention_count DESC, c.id
            LIMIT %s
            """,
            [kinds, linking_setting("HOT_PERSON_MENTIONS"), REPEAT_CANDIDATES, spread_only, limit],
        )
        rows = cur.fetchall()
    out = [
        {
            "id": pk,
            "kind": k,
            "kind_label": str(EntityKind(k).label),
            "value": entity_display(k, v),
            "mentions": n,
            "regions": regions,
            "sectors": sectors,
            "tips": tips,
            "leads": leads,
            "cases": cases_,
            "last_seen": last,
        }
        for pk, k, v, n, regions, sectors, tips, leads, cases_, last in rows
    ]
    cache.set(key, out, REPEAT_CACHE_SECONDS)
    return out


def case_list(*, kind: str = "", q: str = ""):
    qs = ImportedCase.objects.select_related("region", "sector")
    if kind:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()[:60]
    if q:
        qs = qs.filter(Q(case_number__icontains=q) | Q(title__icontains=q) | Q(accused__icontains=q))
    return qs.order_by("-created_at", "-id")


def is_office(user) -> bool:
    return getattr(user, "role", None) == Role.OFFICE
