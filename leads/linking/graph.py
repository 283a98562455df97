"""The link graph of a lead: its tips, linked items, their entities, and other items sharing them.

Two hops from the lead, counting the lead and its tips as one (a lead is its tips): lead/tip → entity →
other tip, lead or case; lead/tip → linked item. Only items the viewer may see become nodes, and only
those link to their pages; entity nodes open the entity page for roles that may read it.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .access import ANALYSIS_ROLES
from .conf import linking_setting
from .models import EntityKind, Link
from .selectors import _describe, _usable, entity_display
from .services import CASE, LEAD, TIP, Ref, pair_filter

CATEGORIES = ["lead", "tip", "case", "person", "company", "phone", "other"]
CATEGORY_LABELS = {
    "lead": N_("线索"),
    "tip": N_("举报"),
    "case": N_("已有案件"),
    "person": N_("人员"),
    "company": N_("公司"),
    "phone": N_("电话"),
    "other": N_("其他标识"),
}
PER_ENTITY = 12


def _entity_category(kind: str) -> str:
    if kind in (EntityKind.PERSON, EntityKind.ALIAS):
        return "person"
    if kind in (EntityKind.COMPANY, EntityKind.PHONE):
        return kind
    return "other"


def graph_for_lead(*, lead, user) -> dict:
    """{"nodes", "links", "categories"} for ECharts' graph series (ids are strings like "tip:12")."""
    from leads.models import LeadTip

    tip_ids = list(LeadTip.objects.filter(lead=lead).values_list("tip_id", flat=True))
    center = Ref(LEAD, lead.pk)
    core = {center} | {Ref(TIP, t) for t in tip_ids}
    edges: set[tuple[str, str]] = {(center.key(), Ref(TIP, t).key()) for t in tip_ids}
    # Entities of the lead and its tips.
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT e.id, e.kind, e.value, e.mention_count, m.tip_id, m.lead_id
            FROM linking_entitymention m JOIN linking_entity e ON e.id = m.entity_id
            WHERE m.lead_id = %s OR m.tip_id = ANY(%s::bigint[])
            """,
            [lead.pk, tip_ids],
        )
        own_rows = cur.fetchall()
    entities: dict[int, tuple[str, str, int]] = {}
    for entity_id, kind, value, count, tip_id, lead_id in own_rows:
        entities[entity_id] = (kind, value, count)
        item = Ref(TIP, tip_id) if tip_id else Ref(LEAD, lead_id)
        edges.add((item.key(), f"entity:{entity_id}"))
    usable = [pk for pk, (kind, _v, count) in entities.items() if _usable(kind, count)]
    # Other items sharing those entities (bounded per entity).
    shared_with: dict[Ref, set[int]] = defaultdict(set)
    if usable:
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT u.id, x.tip_id, x.lead_id, x.case_id FROM unnest(%s::bigint[]) AS u(id)
                CROSS JOIN LATERAL (
                    SELECT tip_id, lead_id, case_id FROM linking_entitymention
                    WHERE entity_id = u.id ORDER BY id DESC LIMIT %s
                ) x
                """,
                [usable, PER_ENTITY],
            )
            for entity_id, tip_id, lead_id, case_id in cur.fetchall():
                ref = Ref(TIP, tip_id) if tip_id else Ref(LEAD, lead_id) if lead_id else Ref(CASE, case_id)
                if ref not in core:
                    shared_with[ref].add(entity_id)
    # Items linked by the office.
    linked: set[Ref] = set()
    cond = None
    for ref in core:
        cond = pair_filter(ref) if cond is None else cond | pair_filter(ref)
    for a_kind, a_id, b_kind, b_id in Link.objects.filter(cond).values_list(
        "a_kind", "a_id", "b_kind", "b_id"
    ):
        a, b = Ref(a_kind, a_id), Ref(b_kind, b_id)
        if a in core and b not in core:
            linked.add(b)
            edges.add((a.key(), b.key()))
        elif b in core and a not in core:
            linked.add(a)
            edges.add((b.key(), a.key()))
    described = _describe(user, core | linked | set(shared_with))
    limit = linking_setting("GRAPH_MAX_NODES")
    nodes: list[dict] = []
    present: set[str] = set()

    def add_item(ref: Ref, size: int) -> None:
        item = described.get(ref)
        if item is None or ref.key() in present or len(nodes) >= limit:
            return
        present.add(ref.key())
        nodes.append(
            {
                "id": ref.key(),
                "name": item.code,
                "category": CATEGORIES.index(ref.kind),
                "symbolSize": size,
                "url": item.url,
                "tooltip": f"{item.kind_label} {item.code}：{item.title}",
            }
        )

    add_item(center, 46)
    for t in tip_ids:
        add_item(Ref(TIP, t), 30)
    for ref in sorted(linked):
        add_item(ref, 30)
    can_open_entities = getattr(user, "role", None) in ANALYSIS_ROLES
    # Entities next, most specific first; then other items by how many entities they share.
    shared_count: dict[int, int] = defaultdict(int)
    for ref, ids in shared_with.items():
        if ref in described:
            for entity_id in ids:
                shared_count[entity_id] += 1
    for entity_id, (kind, value, count) in sorted(
        entities.items(), key=lambda kv: (-shared_count[kv[0]], kv[0])
    ):
        if len(nodes) >= limit:
            break
        key = f"entity:{entity_id}"
        shown = entity_display(kind, value)
        present.add(key)
        nodes.append(
            {
                "id": key,
                "name": shown,
                "category": CATEGORIES.index(_entity_category(kind)),
                "symbolSize": 18 if _usable(kind, count) else 12,
                "url": reverse("linking:entity", args=[entity_id]) if can_open_entities else "",
                "tooltip": _("%(kind)s %(value)s（出现 %(n)s 次）")
                % {"kind": EntityKind(kind).label, "value": shown, "n": count},
            }
        )
    for ref in sorted(shared_with, key=lambda r: (-len(shared_with[r]), r)):
        if ref not in described:
            continue
        for entity_id in shared_with[ref]:
            edges.add((ref.key(), f"entity:{entity_id}"))
        add_item(ref, 22)
    links = [{"source": s, "target": t} for s, t in sorted(edges) if s in present and t in present]
    return {
        "nodes": nodes,
        "links": links,
        "categories": [{"name": _(CATEGORY_LABELS[c])} for c in CATEGORIES],
        "truncated": len(nodes) >= limit,
    }
