"""The accountability workflow as ONE table: which role may do which step in which action status.

draft → issued → rectifying → rectified / overdue → closed, and draft → dismissed. The service
(`action_transition`) refuses anything the table does not allow, the API lists `allowed_actions` from it,
the detail page renders its buttons from it, and the tests walk it (status × step × role).
Preconditions that depend on the items (an item waiting for a report, a report waiting for review …)
are checked by `action_error`, the same function for the buttons and for the service.

Status after a rectification step is derived from the items (`derive_status`), so "rectified" always
means every item accepted, and "overdue" always means an item past its deadline and not accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.roles import Role

from .models import (
    ITEMS_REQUIRED_KINDS,
    RECTIFYING_KINDS,
    ActionKind,
    ActionStatus,
    ItemStatus,
    ReportDecision,
)

SYSTEM = "system"  # the periodic sweep


class WorkflowError(Exception):
    """A step that is not allowed (or is missing input); `message` is readable, `errors` per field.

    `kind` tells the API which status to answer: "invalid" input (400), "forbidden" role (403), or an
    action whose state does not allow it now (409).
    """

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, kind: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.kind = kind

    @classmethod
    def field(cls, name: str, message: str) -> WorkflowError:
        return cls(message, {name: [message]}, kind="invalid")


class VersionConflict(WorkflowError):
    def __init__(self, action):
        super().__init__(
            _("该问责措施已被他人更新（当前状态：%(status)s），请刷新页面后重新操作。")
            % {"status": action.get_status_display()},
            kind="conflict",
        )
        self.action = action


S = ActionStatus
OPEN = frozenset({S.ISSUED, S.RECTIFYING, S.OVERDUE})
UNIT_ROLES = frozenset({Role.LIAISON, Role.UNIT_HEAD})


@dataclass(frozen=True)
class Step:
    name: str
    label: object
    statuses: frozenset
    roles: frozenset
    scope: str = "action"  # "action", or "item" (the step names one rectification item)
    style: str = "outline-primary"
    fields: tuple[str, ...] = ()
    help: object = ""


STEPS: dict[str, Step] = {
    s.name: s
    for s in [
        Step(
            "edit",
            gettext_lazy("修改"),
            frozenset({S.DRAFT}),
            frozenset({Role.OFFICE}),
            fields=("kind", "title", "reasons", "body", "units", "items"),
        ),
        Step(
            "issue",
            gettext_lazy("确认印发"),
            frozenset({S.DRAFT}),
            frozenset({Role.OFFICE}),
            style="primary",
            help=gettext_lazy("确认后分配发文字号、生成正式文书，并通知对象单位。"),
        ),
        Step(
            "dismiss",
            gettext_lazy("不予采纳"),
            frozenset({S.DRAFT}),
            frozenset({Role.OFFICE}),
            style="outline-danger",
            fields=("note",),
            help=gettext_lazy("须说明理由；该建议不会再次生成。"),
        ),
        Step(
            "report",
            gettext_lazy("报告整改情况"),
            OPEN,
            UNIT_ROLES,
            scope="item",
            style="primary",
            fields=("item", "body", "evidence"),
        ),
        Step(
            "accept_item",
            gettext_lazy("验收通过"),
            OPEN,
            frozenset({Role.OFFICE}),
            scope="item",
            style="success",
            fields=("item", "note"),
        ),
        Step(
            "reject_item",
            gettext_lazy("验收不通过"),
            OPEN,
            frozenset({Role.OFFICE}),
            scope="item",
            style="outline-danger",
            fields=("item", "note"),
            help=gettext_lazy("须写明不通过的理由，单位须重新整改报告。"),
        ),
        Step(
            "record_talk",
            gettext_lazy("记录约谈情况"),
            OPEN | {S.RECTIFIED},
            frozenset({Role.OFFICE}),
            fields=("talk_record",),
        ),
        Step(
            "close",
            gettext_lazy("销号"),
            frozenset({S.ISSUED, S.RECTIFIED}),
            frozenset({Role.OFFICE}),
            style="success",
            fields=("note",),
            help=gettext_lazy("整改全部验收通过（或无需整改）后销号办结。"),
        ),
        Step(
            "mark_overdue",
            gettext_lazy("整改逾期"),
            frozenset({S.ISSUED, S.RECTIFYING}),
            frozenset({SYSTEM}),
        ),
    ]
}


def step_label(name: str) -> str:
    step = STEPS.get(name)
    return str(step.label) if step else name


def table_error(status: str, name: str, role: str) -> WorkflowError | None:
    """None when the table allows `role` to take step `name` in `status`; else the readable refusal."""
    step = STEPS.get(name)
    if step is None:
        return WorkflowError(_("未知操作“%(action)s”。") % {"action": name}, {"action": [_("未知操作。")]})
    if role not in step.roles:
        role_label = Role(role).label if role in Role.values else role
        return WorkflowError(
            _("%(role)s无权执行“%(action)s”。") % {"role": role_label, "action": step.label}, kind="forbidden"
        )
    if status not in step.statuses:
        return WorkflowError(
            _("该措施当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": ActionStatus(status).label, "action": step.label},
            kind="state",
        )
    return None


def _pending_report(item):
    for report in item.reports.all():
        if report.decision == ReportDecision.PENDING:
            return report
    return None


def item_error(name: str, item, user) -> str | None:
    """Why step `name` cannot be taken on this item now (None: it can)."""
    if name == "report":
        if item.status not in (ItemStatus.OPEN, ItemStatus.REJECTED):
            return _("该整改事项%(status)s，无需再报告。") % {"status": item.get_status_display()}
    elif name in ("accept_item", "reject_item") and (
        item.status != ItemStatus.REPORTED or _pending_report(item) is None
    ):
        return _("该整改事项没有待验收的整改报告。")
    return None


def _precondition(name: str, action, user, items: list, unit_ids: set[int]) -> str | None:
    if name == "issue":
        if action.kind in ITEMS_REQUIRED_KINDS and not items:
            return _("%(kind)s须至少列明一项整改事项。") % {"kind": action.get_kind_display()}
        if not unit_ids:
            return _("请先选择对象单位。")
    elif name == "report":
        if getattr(user, "unit_id", None) not in unit_ids:
            return _("该措施不是针对贵单位的。")
        if not any(item_error("report", i, user) is None for i in items):
            return _("没有需要报告的整改事项。")
    elif name in ("accept_item", "reject_item"):
        if not any(item_error(name, i, user) is None for i in items):
            return _("没有待验收的整改报告。")
    elif name == "record_talk":
        if action.kind != ActionKind.TALK:
            return _("只有约谈可以记录约谈情况。")
    elif name == "close":
        if action.status == S.ISSUED and items:
            return _("整改事项尚未全部验收通过，不能销号。")
    elif name == "mark_overdue" and not items:
        return _("没有整改事项。")
    return None


def action_error(name: str, action, user, *, items: list | None = None, unit_ids: set[int] | None = None):
    """Why `user` may not take step `name` on `action` now (None: allowed).

    `items` (with their reports prefetched) and `unit_ids` (the target units) default to the action's own.
    """
    role = SYSTEM if user is None else getattr(user, "role", "")
    error = table_error(action.status, name, role)
    if error:
        return error
    if items is None:
        items = list(action.items.all())
    if unit_ids is None:
        unit_ids = {u.pk for u in action.units.all()}
    message = _precondition(name, action, user, items, unit_ids)
    return WorkflowError(message, kind="state") if message else None


def allowed_actions(
    action, user, *, items: list | None = None, unit_ids: set[int] | None = None
) -> list[str]:
    """The steps `user` may take on `action` now, in table order (never the sweep's own)."""
    if items is None:
        items = list(action.items.all())
    if unit_ids is None:
        unit_ids = {u.pk for u in action.units.all()}
    return [
        name
        for name, step in STEPS.items()
        if SYSTEM not in step.roles
        and action_error(name, action, user, items=items, unit_ids=unit_ids) is None
    ]


def derive_status(action, items: list, now) -> str:
    """The status an issued action with items should have now: rectified, overdue, rectifying or issued."""
    if action.status in (S.DRAFT, S.DISMISSED, S.CLOSED) or not items:
        return action.status
    if all(i.status == ItemStatus.ACCEPTED for i in items):
        return S.RECTIFIED
    if any(i.is_overdue(now) for i in items):
        return S.OVERDUE
    if any(i.reports.all() for i in items) or action.status == S.RECTIFYING:
        return S.RECTIFYING
    return S.ISSUED


def may_have_items(kind: str) -> bool:
    return kind in RECTIFYING_KINDS


def table_rows() -> list[dict]:
    return [
        {"action": s.name, "label": str(s.label), "statuses": sorted(s.statuses), "roles": sorted(s.roles)}
        for s in STEPS.values()
    ]
