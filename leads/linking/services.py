"""Writes for linking: indexing items, key-monitoring flags and alerts, links and dismissals.

The index is filled at intake (`entities_index_tip` on a worker after `reports.signals.tip_committed`),
by the sweep for leads and for tips whose message was lost, by the case import, and by `linking_backfill`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.audit import audit_record
from campaign.models import User
from campaign.roles import Role

from . import Kind, company_key, mask, normalize_entity, normalize_text
from .access import can_link
from .conf import linking_setting
from .indexing import LOADERS, ItemText, index_items, lock_item
from .models import Dismissal, EntityKind, ItemKind, Link, WatchFlag, WatchHit

log = logging.getLogger(__name__)


class LinkingError(Exception):
    """A refused link, dismissal or flag: `message` is readable, `errors` per field, `kind` the HTTP sense."""

    def __init__(self, message: str, errors: dict | None = None, kind: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.kind = kind

    @classmethod
    def field(cls, name: str, message: str) -> LinkingError:
        return cls(message, {name: [message]})


# --- indexing ------------------------------------------------------------------------------------
@dataclass
class IndexOutcome:
    indexed: bool
    entities: int = 0
    hits: int = 0


def _index_one(kind: str, item_id: int, *, alert: bool = True) -> IndexOutcome:
    with transaction.atomic():
        lock_item(kind, item_id)
        items = LOADERS[kind]([item_id])
        if not items:
            return IndexOutcome(indexed=False)
        item = items[0]
        index_items(items)
        hits = watch_check(item=item) if alert else 0
    return IndexOutcome(indexed=True, entities=len(item.found), hits=hits)


def entities_index_tip(*, tip_id: int, alert: bool = True) -> IndexOutcome:
    """Index one tip's entities (idempotent) and alert units watching any of them. Runs on a worker."""
    return _index_one(ItemKind.TIP, tip_id, alert=alert)


def entities_index_lead(*, lead_id: int, alert: bool = True) -> IndexOutcome:
    """Index one lead's summary and accused field; call after registering or editing a lead."""
    return _index_one(ItemKind.LEAD, lead_id, alert=alert)


def entities_index_case(*, case_id: int, alert: bool = True) -> IndexOutcome:
    return _index_one(ItemKind.CASE, case_id, alert=alert)


def entities_index_sweep(*, now: dt.datetime | None = None) -> dict:
    """Index recent tips and leads that have no index row yet (bounded): new leads, lost messages.

    Items are taken from the newest ids down to a window, skipping tips younger than a few seconds (their
    own task is on its way); each is indexed in its own transaction, so one bad item does not stop the rest.
    """
    from leads.models import Lead
    from reports.models import Tip

    from .indexing import unindexed_ids

    now = now or timezone.now()
    counts = {"tips": 0, "leads": 0, "failed": 0}
    batch = linking_setting("SWEEP_BATCH")
    window = linking_setting("SWEEP_WINDOW_IDS")
    for kind, model, key in ((ItemKind.TIP, Tip, "tips"), (ItemKind.LEAD, Lead, "leads")):
        top = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ids = unindexed_ids(kind, after=max(0, top - window), limit=batch)
        if kind == ItemKind.TIP and ids:
            young = set(
                Tip.objects.filter(pk__in=ids, received_at__gt=now - dt.timedelta(seconds=10)).values_list(
                    "pk", flat=True
                )
            )
            ids = [i for i in ids if i not in young]
        for item_id in ids:
            try:
                _index_one(kind, item_id)
                counts[key] += 1
            except Exception:
                log.exception("linking: indexing %s %s failed in the sweep", kind, item_id)
                counts["failed"] += 1
    return counts


# --- key monitoring ------------------------------------------------------------------------------
WATCH_KINDS = (
    EntityKind.PERSON,
    EntityKind.COMPANY,
    EntityKind.PHONE,
    EntityKind.PLACE,
    EntityKind.ID_NUMBER,
    EntityKind.PLATE,
)


def watch_normalize(kind: str, raw: str) -> str | None:
    """The value a flag is compared by, or None when `raw` is not a valid value of `kind`."""
    if kind == EntityKind.PLACE:
        value = "".join(normalize_text(raw or "").split())
        return value if len(value) >= 2 else None
    if kind not in Kind.__members__.values():
        return None
    value = normalize_entity(kind, raw or "")
    if value and kind in (EntityKind.PERSON, EntityKind.COMPANY) and len(value) < 2:
        return None
    return value


def _flag_matches(flag: WatchFlag, item: ItemText, texts: list[str]) -> str | None:
    """The text in `item` that matches `flag`, or None."""
    if flag.kind == EntityKind.PLACE:
        for text in texts:
            if flag.value in text:
                return flag.label
        return None
    if flag.kind == EntityKind.COMPANY:
        key = company_key(flag.value)
        for f in item.found:
            if f.kind == EntityKind.COMPANY and (f.value == flag.value or (len(key) >= 2 and f.key == key)):
                return f.raw
        return None
    if flag.kind == EntityKind.PERSON:
        for f in item.found:
            if f.kind in (EntityKind.PERSON, EntityKind.ALIAS) and f.value == flag.value:
                return f.raw
        # Names in the description are not extracted; a full name of three or more characters is specific
        # enough to match as text (two-character names would match inside other words).
        if len(flag.value) >= 3 and any(flag.value in text for text in texts):
            return flag.value
        return None
    for f in item.found:
        if f.kind == flag.kind and f.value == flag.value:
            return f.raw
    return None


def watch_flags_active(today: dt.date | None = None) -> list[WatchFlag]:
    return list(WatchFlag.objects.filter(lifted_at__isnull=True, ends_on__gte=today or timezone.localdate()))


def watch_check(*, item: ItemText, today: dt.date | None = None, flags: list[WatchFlag] | None = None) -> int:
    """Record a hit and alert the flagging unit for every active flag `item` mentions (once per flag and
    item). Runs in the indexing transaction, with the item locked. `flags`: the active flags, when the
    caller checks many items (leads.intake routes tips in batches)."""
    if flags is None:
        flags = watch_flags_active(today)
    if not flags:
        return 0
    texts = ["".join(normalize_text(t or "").split()) for t in item.fields.values()]
    matched = [(flag, m) for flag in flags if (m := _flag_matches(flag, item, texts))]
    if not matched:
        return 0
    seen = set(
        WatchHit.objects.filter(item_kind=item.kind, item_id=item.id).values_list("flag_id", flat=True)
    )
    created = 0
    for flag, raw in matched:
        if flag.pk in seen:
            continue
        hit = WatchHit.objects.create(
            flag=flag, item_kind=item.kind, item_id=item.id, item_label=item.label[:60], matched=raw[:200]
        )
        _watch_alert(flag=flag, hit=hit)
        created += 1
    return created


def _watch_alert(*, flag: WatchFlag, hit: WatchHit) -> None:
    from campaign.notifications import notify

    recipients = User.objects.filter(Q(unit_id=flag.unit_id) | Q(pk=flag.created_by_id), is_active=True)
    what = ItemKind(hit.item_kind).label
    notify(
        users=recipients,
        kind="watch_hit",
        title=_("重点监控对象“%(label)s”出现在新%(what)s %(ref)s 中")
        % {"label": watch_display(flag), "what": what, "ref": hit.item_label},
        body=_("监控理由：%(reason)s") % {"reason": flag.reason[:200]},
        url=reverse("linking:watch_detail", args=[flag.pk]),
        dedupe_key=f"watch-hit:{hit.pk}",
    )


def watch_display(flag: WatchFlag) -> str:
    """A flag's value as shown in lists and notifications (numbers masked: they travel by email)."""
    if flag.kind in (EntityKind.PHONE, EntityKind.ID_NUMBER, EntityKind.BANK_CARD):
        return mask(flag.kind, flag.value)
    return flag.label


@transaction.atomic
def watch_flag_create(*, actor: User, kind: str, value: str, reason: str, ends_on: dt.date) -> WatchFlag:
    """Flag an entity for key monitoring on behalf of the actor's unit."""
    errors: dict[str, list[str]] = {}
    if kind not in WATCH_KINDS:
        errors["kind"] = [_("请选择监控对象类型。")]
    normalized = watch_normalize(kind, value) if kind in WATCH_KINDS else None
    if kind in WATCH_KINDS and not normalized:
        errors["value"] = [
            _("“%(value)s”不是有效的%(kind)s。") % {"value": value, "kind": EntityKind(kind).label}
            if (value or "").strip()
            else _("请填写监控对象。")
        ]
    if not (reason or "").strip():
        errors["reason"] = [_("请填写监控理由。")]
    today = timezone.localdate()
    if ends_on is None:
        errors["ends_on"] = [_("请填写监控截止日期。")]
    elif ends_on < today:
        errors["ends_on"] = [_("截止日期不能早于今天。")]
    elif ends_on > today + dt.timedelta(days=3 * 366):
        errors["ends_on"] = [_("监控期限最长三年，到期后可重新标注。")]
    if actor.unit_id is None:
        errors["value"] = [_("您的账号未关联单位，不能标注重点监控对象。")]
    if errors:
        raise LinkingError(_("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}, errors)
    label = " ".join((value or "").split())[:200]
    if kind in (EntityKind.PERSON, EntityKind.COMPANY, EntityKind.ID_NUMBER, EntityKind.PLATE):
        label = normalized[:200]
    if kind == EntityKind.PHONE:
        label = normalized
    flag = WatchFlag.objects.create(
        kind=kind,
        value=normalized[:200],
        label=label,
        reason=reason.strip(),
        ends_on=ends_on,
        unit_id=actor.unit_id,
        created_by=actor,
    )
    audit_record(actor=actor, action="linking.watch_flag", target=flag, data={"kind": kind})
    return flag


@transaction.atomic
def watch_flag_lift(*, flag_id: int, actor: User) -> WatchFlag:
    """End monitoring before its date (the flagging unit or the office)."""
    flag = WatchFlag.objects.select_for_update().get(pk=flag_id)
    if actor.role != Role.OFFICE and flag.unit_id != actor.unit_id:
        raise LinkingError(_("只能解除本单位标注的重点监控对象。"), kind="forbidden")
    if flag.lifted_at is None:
        flag.lifted_at = timezone.now()
        flag.lifted_by = actor
        flag.save(update_fields=["lifted_at", "lifted_by"])
        audit_record(actor=actor, action="linking.watch_lift", target=flag)
    return flag


# --- links and dismissals ------------------------------------------------------------------------
class Ref(NamedTuple):
    """A tip, lead or imported case. A plain tuple: suggestions hash thousands of these per request."""

    kind: str  # "tip", "lead" or "case" (plain str; TIP, LEAD, CASE below)
    id: int

    def key(self) -> str:
        return f"{self.kind}:{self.id}"


TIP, LEAD, CASE = "tip", "lead", "case"


def pair(a: Ref, b: Ref) -> dict:
    first, second = sorted([a, b])
    return {"a_kind": first.kind, "a_id": first.id, "b_kind": second.kind, "b_id": second.id}


def _check_link(actor: User, source: Ref, target: Ref, visible) -> None:
    if not can_link(actor):
        raise LinkingError(_("只有市扫黑办工作人员可以串并或排除关联建议。"), kind="forbidden")
    if target.kind not in ItemKind.values:
        raise LinkingError.field("kind", _("关联对象类型无效。"))
    if source == target:
        raise LinkingError.field("id", _("不能与自身串并。"))
    if not visible(target):
        raise LinkingError.field("id", _("关联对象不存在。"))


@dataclass
class LinkOutcome:
    link: Link
    lead_id: int | None
    message: str


@transaction.atomic
def link_create(*, actor: User, source: Ref, target: Ref, note: str = "") -> LinkOutcome:
    """Join two items (串并). Two tips end up under one lead: both new → one lead registered from both;
    one already on a lead → the other merged into it (leads' triage merge). Anything else is recorded."""
    from .selectors import ref_visible

    _check_link(actor, source, target, lambda ref: ref_visible(actor, ref))
    if not ref_visible(actor, source):
        raise LinkingError.field("id", _("关联对象不存在。"))
    existing = Link.objects.filter(**pair(source, target)).first()
    if existing:
        return LinkOutcome(existing, existing.lead_id, _("已串并，无需重复操作。"))
    note = (note or "").strip()
    outcome, lead_id, message = _join(actor=actor, source=source, target=target, note=note)
    link = Link.objects.create(
        **pair(source, target), outcome=outcome, lead_id=lead_id, note=note, created_by=actor
    )
    audit_record(
        actor=actor,
        action="linking.link",
        target=link,
        data={"a": source.key(), "b": target.key(), "outcome": outcome, "lead": lead_id},
    )
    if outcome == Link.Outcome.REGISTERED:
        from .tasks import index_enqueue

        # The new lead's own entities; the sweep would find it within a minute anyway.
        transaction.on_commit(lambda: index_enqueue(kind=ItemKind.LEAD, item_id=lead_id))
    return LinkOutcome(link, lead_id, message)


def _join(*, actor: User, source: Ref, target: Ref, note: str) -> tuple[str, int | None, str]:
    """Put tips under one lead where the leads app allows it; returns (outcome, lead id, message)."""
    from leads.models import Lead, LeadTip
    from leads.services import lead_register
    from leads.workflow import TransitionError
    from reports.models import Tip, TipStatus

    tips = sorted(r.id for r in (source, target) if r.kind == ItemKind.TIP)
    leads_ = [r.id for r in (source, target) if r.kind == ItemKind.LEAD]
    if ItemKind.CASE in (source.kind, target.kind):
        return Link.Outcome.RECORDED, None, _("已记录与已有案件的串并关系。")
    on_lead = dict(LeadTip.objects.filter(tip_id__in=tips).values_list("tip_id", "lead_id"))
    reason = note or _("串并：%(a)s 与 %(b)s") % {"a": _ref_label(source), "b": _ref_label(target)}
    try:
        if len(tips) == 2:
            a, b = tips
            if a in on_lead and b in on_lead:
                if on_lead[a] == on_lead[b]:
                    return Link.Outcome.SAME_LEAD, on_lead[a], _("两件举报已在同一线索中。")
                return Link.Outcome.RECORDED, None, _("两件举报分属不同线索，已记录串并关系。")
            if a in on_lead or b in on_lead:
                lead_id = on_lead.get(a) or on_lead.get(b)
                other = b if a in on_lead else a
                return _merge_tip(actor, other, lead_id, reason)
            rows = list(Tip.objects.filter(pk__in=tips).select_related("sector", "region").order_by("pk"))
            if any(t.status != TipStatus.NEW for t in rows):
                return Link.Outcome.RECORDED, None, _("举报已研判，已记录串并关系。")
            sector = next((t.sector for t in rows if t.sector_id), None)
            region = next((t.region for t in rows if t.region_id), None)
            if sector is None or region is None:
                raise LinkingError(
                    _("两件举报都缺少行业领域或发生地区，无法登记为线索；请先在研判中补充。"),
                    kind="state",
                )
            first = rows[0]
            lead = lead_register(
                actor=actor,
                sector=sector,
                region=region,
                summary=first.description,
                accused=first.accused,
                tip_ids=tips,
                note=reason,
            )
            return (
                Link.Outcome.REGISTERED,
                lead.pk,
                _("两件举报已登记为同一线索 %(number)s。") % {"number": lead.number},
            )
        if len(tips) == 1 and len(leads_) == 1:
            tip_id, lead_id = tips[0], leads_[0]
            if on_lead.get(tip_id) == lead_id:
                return Link.Outcome.SAME_LEAD, lead_id, _("该举报已在此线索中。")
            if tip_id in on_lead:
                return Link.Outcome.RECORDED, None, _("该举报已属于其他线索，已记录串并关系。")
            return _merge_tip(actor, tip_id, lead_id, reason)
        return Link.Outcome.RECORDED, None, _("已记录两条线索的串并关系。")
    except TransitionError as exc:
        raise LinkingError(exc.message, exc.errors, kind=exc.kind) from exc
    except Lead.DoesNotExist as exc:
        raise LinkingError.field("id", _("线索不存在。")) from exc


def _merge_tip(actor: User, tip_id: int, lead_id: int, note: str) -> tuple[str, int | None, str]:
    from leads.models import Lead
    from leads.services import tip_triage
    from reports.models import Tip, TipStatus

    status = Tip.objects.filter(pk=tip_id).values_list("status", flat=True).first()
    number = Lead.objects.filter(pk=lead_id).values_list("number", flat=True).first()
    if status != TipStatus.NEW:
        return (
            Link.Outcome.RECORDED,
            lead_id,
            _("举报已研判，不能再并入线索 %(number)s，已记录串并关系。") % {"number": number},
        )
    tip_triage(tip_id=tip_id, action="merge", actor=actor, note=note, lead_id=lead_id)
    return Link.Outcome.MERGED, lead_id, _("举报已并入线索 %(number)s。") % {"number": number}


def _ref_label(ref: Ref) -> str:
    from .selectors import ref_labels

    return ref_labels([ref]).get(ref, ref.key())


@transaction.atomic
def link_dismiss(*, actor: User, source: Ref, target: Ref, reason: str = "") -> Dismissal:
    """Remember that `target` is not related to `source`; the suggestion is not shown on either page again."""
    from .selectors import ref_visible

    _check_link(actor, source, target, lambda ref: ref_visible(actor, ref))
    dismissal, created = Dismissal.objects.get_or_create(
        **pair(source, target),
        defaults={"reason": (reason or "").strip()[:200], "dismissed_by": actor},
    )
    if created:
        audit_record(
            actor=actor,
            action="linking.dismiss",
            target=dismissal,
            data={"a": source.key(), "b": target.key()},
        )
    return dismissal


@transaction.atomic
def link_dismissal_revoke(*, actor: User, dismissal_id: int) -> None:
    """Show a dismissed suggestion again."""
    if not can_link(actor):
        raise LinkingError(_("只有市扫黑办工作人员可以恢复关联建议。"), kind="forbidden")
    dismissal = Dismissal.objects.select_for_update().filter(pk=dismissal_id).first()
    if dismissal is None:
        raise LinkingError.field("id", _("该排除记录不存在。"))
    audit_record(
        actor=actor,
        action="linking.dismiss_revoke",
        target=dismissal,
        data={"a": f"{dismissal.a_kind}:{dismissal.a_id}", "b": f"{dismissal.b_kind}:{dismissal.b_id}"},
    )
    dismissal.delete()


def pair_filter(ref: Ref) -> Q:
    return Q(a_kind=ref.kind, a_id=ref.id) | Q(b_kind=ref.kind, b_id=ref.id)


__all__ = [
    "IndexOutcome",
    "LinkOutcome",
    "LinkingError",
    "Ref",
    "entities_index_case",
    "entities_index_lead",
    "entities_index_sweep",
    "entities_index_tip",
    "link_create",
    "link_dismiss",
    "link_dismissal_revoke",
    "watch_check",
    "watch_flag_create",
    "watch_flag_lift",
]
