"""The lead workflow as ONE table: which role may do which action in which lead status.

The service (`lead_transition`) refuses anything the table does not allow, the API lists
`allowed_actions` from it, the pages render their buttons from it, and the tests walk it
(status × action × role). Preconditions that depend on the assignments (the liaison's own unit has
an assignment waiting to be signed for, a result waiting for review …) are checked by
`precondition_error`, the same function for the buttons and for the service.

The case-handling practice of issue 11 (sign-for, send-back window and arbitration, report-backs,
sign-offs, repeat-report review, restricted leads) is rows here plus handlers in leads/practice.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.roles import Role

from .conf import leads_setting
from .models import AssignmentStatus, LeadStatus


class TransitionError(Exception):
    """An action that is not allowed (or is missing input); `message` is readable, `errors` per field.

    `kind` says why, so the API can answer with the right status: "invalid" input (400), a role that
    may not do it (403), or a lead whose state does not allow it now (409).
    """

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, kind: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.kind = kind

    @classmethod
    def field(cls, name: str, message: str) -> TransitionError:
        return cls(message, {name: [message]}, kind="invalid")


class VersionConflict(Exception):
    """Someone changed the lead after the user loaded it; `lead` is the current state."""

    def __init__(self, lead, message: str | None = None):
        self.lead = lead
        self.message = message or _(
            "该线索已被他人更新（当前状态：%(status)s，版本 %(version)s），请刷新页面后重新操作。"
        ) % {"status": lead.get_status_display(), "version": lead.version}
        super().__init__(self.message)


S = LeadStatus
OPEN_STATUSES = frozenset({S.REGISTERED, S.ASSIGNED, S.VERIFYING, S.VERIFIED})


@dataclass(frozen=True)
class Action:
    name: str
    label: object  # lazy translation
    # "create" makes a lead; "lead" acts on the lead; "assignment" acts on the actor's own unit's assignment.
    scope: str
    statuses: frozenset
    roles: frozenset
    style: str = "outline-primary"
    help: object = ""
    fields: tuple[str, ...] = field(default_factory=tuple)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "register",
            gettext_lazy("受理登记"),
            "create",
            frozenset({""}),
            frozenset({Role.OFFICE, Role.POLICE}),
            fields=("sector", "region", "summary"),
        ),
        Action(
            "assign",
            gettext_lazy("派单"),
            "lead",
            OPEN_STATUSES,
            frozenset({Role.OFFICE}),
            style="primary",
            help=gettext_lazy("交办给一个或多个承办单位，按工作日计算期限。"),
            fields=("units",),
        ),
        Action(
            "accept",
            gettext_lazy("签收"),
            "assignment",
            frozenset({S.ASSIGNED, S.VERIFYING}),
            frozenset({Role.LIAISON}),
            style="primary",
            help=gettext_lazy("本单位正式接收该线索，开始核查。"),
        ),
        Action(
            "send_back",
            gettext_lazy("退单"),
            "assignment",
            frozenset({S.ASSIGNED, S.VERIFYING}),
            frozenset({Role.LIAISON}),
            style="outline-danger",
            help=gettext_lazy("不属于本单位职责范围时，在退单期限内说明理由退回市扫黑办。"),
            fields=("note",),
        ),
        Action(
            "report_first",
            gettext_lazy("首次回告"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.LIAISON}),
            style="primary",
            help=gettext_lazy("签收后按期报告核查工作安排和初步进展。"),
            fields=("note",),
        ),
        Action(
            "report_stage",
            gettext_lazy("阶段回告"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.LIAISON}),
            help=gettext_lazy("按市扫黑办要求报告核查进展。"),
            fields=("note",),
        ),
        Action(
            "request_extension",
            gettext_lazy("延期申请"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.LIAISON}),
            help=gettext_lazy("期限届满前申请，由市扫黑办审批。"),
            fields=("days", "note"),
        ),
        Action(
            "request_sign_off",
            gettext_lazy("提请签字背书"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.LIAISON}),
            style="primary",
            help=gettext_lazy("核查结论和核查情况报本单位第一责任人审核签字，签字后方可提交。"),
            fields=("result", "findings"),
        ),
        Action(
            "sign_off",
            gettext_lazy("签字背书"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.UNIT_HEAD}),
            style="primary",
            help=gettext_lazy("作为第一责任人对本单位核查结果签字负责。"),
        ),
        Action(
            "decline_sign_off",
            gettext_lazy("退回修改"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.UNIT_HEAD}),
            style="outline-danger",
            help=gettext_lazy("核查结果需补充或修改时，说明意见退回联络员。"),
            fields=("note",),
        ),
        Action(
            "approve_extension",
            gettext_lazy("同意延期"),
            "lead",
            frozenset({S.VERIFYING}),
            frozenset({Role.OFFICE}),
            fields=("extension",),
        ),
        Action(
            "refuse_extension",
            gettext_lazy("不同意延期"),
            "lead",
            frozenset({S.VERIFYING}),
            frozenset({Role.OFFICE}),
            style="outline-danger",
            fields=("extension", "note"),
        ),
        Action(
            "request_stage_report",
            gettext_lazy("要求阶段回告"),
            "lead",
            frozenset({S.VERIFYING}),
            frozenset({Role.OFFICE}),
            help=gettext_lazy("要求承办单位在期限内报告核查进展。"),
            fields=("assignment", "days", "note"),
        ),
        Action(
            "submit_result",
            gettext_lazy("提交核查结果"),
            "assignment",
            frozenset({S.VERIFYING}),
            frozenset({Role.LIAISON}),
            style="primary",
            help=gettext_lazy("即末次回告：提交经第一责任人签字背书的核查结论和核查情况。"),
            fields=("result", "findings"),
        ),
        Action(
            "accept_send_back",
            gettext_lazy("同意退单"),
            "lead",
            OPEN_STATUSES,
            frozenset({Role.OFFICE}),
            style="outline-primary",
            help=gettext_lazy("退单理由成立：改由其他单位承办。"),
            fields=("assignment", "units"),
        ),
        Action(
            "refuse_send_back",
            gettext_lazy("不同意退单"),
            "lead",
            OPEN_STATUSES,
            frozenset({Role.OFFICE}),
            style="outline-danger",
            help=gettext_lazy("退单理由不成立：仍由原单位承办，办理期限不变。"),
            fields=("assignment", "note"),
        ),
        Action(
            "return_for_reverification",
            gettext_lazy("退回重查"),
            "lead",
            frozenset({S.VERIFYING, S.VERIFIED}),
            frozenset({Role.OFFICE}),
            style="outline-danger",
            help=gettext_lazy("核查不深不透不实时，退回承办单位重新核查。"),
            fields=("assignment", "note"),
        ),
        Action(
            "reassign",
            gettext_lazy("改派"),
            "lead",
            OPEN_STATUSES,
            frozenset({Role.OFFICE}),
            help=gettext_lazy("撤回一个单位的任务，改由其他单位承办（含处理退单）。"),
            fields=("assignment", "units"),
        ),
        Action(
            "sign_off_closure",
            gettext_lazy("办领导签字背书"),
            "lead",
            frozenset({S.VERIFIED}),
            frozenset({Role.OFFICE}),
            style="outline-primary",
            help=gettext_lazy("查否（不属实）办结须经办领导签字背书。"),
            fields=("result",),
        ),
        Action(
            "close",
            gettext_lazy("办结"),
            "lead",
            frozenset({S.VERIFIED}),
            frozenset({Role.OFFICE}),
            style="success",
            help=gettext_lazy("审核核查结果，确定办结方式；涉嫌“保护伞”的移送纪委监委。"),
            fields=("disposition",),
        ),
        Action(
            "reopen",
            gettext_lazy("重新启动"),
            "lead",
            frozenset({S.CLOSED}),
            frozenset({Role.OFFICE}),
            style="outline-secondary",
            fields=("note",),
        ),
        Action(
            "review_escalate",
            gettext_lazy("提级办理"),
            "lead",
            frozenset({S.CLOSED}),
            frozenset({Role.OFFICE}),
            style="danger",
            help=gettext_lazy("评查认为原核查不实：重新启动，交由其他单位或上级单位办理。"),
            fields=("units", "note"),
        ),
        Action(
            "review_confirm",
            gettext_lazy("维持原结论"),
            "lead",
            frozenset({S.CLOSED}),
            frozenset({Role.OFFICE}),
            style="outline-secondary",
            help=gettext_lazy("评查认为原核查结论成立，写明理由。"),
            fields=("note",),
        ),
        Action(
            "merge",
            gettext_lazy("并入举报"),
            "lead",
            OPEN_STATUSES,
            frozenset({Role.OFFICE}),
            fields=("tips",),
        ),
        Action(
            "restrict",
            gettext_lazy("限制知悉范围"),
            "lead",
            OPEN_STATUSES | {S.CLOSED},
            frozenset({Role.OFFICE}),
            style="outline-dark",
            help=gettext_lazy(
                "仅登记人、承办人、办领导和纪委监委可见；其他人员的列表、统计、搜索和导出均不显示。"
            ),
            fields=("note",),
        ),
        Action(
            "unrestrict",
            gettext_lazy("取消限制知悉"),
            "lead",
            OPEN_STATUSES | {S.CLOSED},
            frozenset({Role.OFFICE}),
            style="outline-dark",
            help=gettext_lazy("由办领导决定取消限制。"),
            fields=("note",),
        ),
    ]
}

# What the informant sees when a lead step happens (reports.PublicStatus values).
PUBLIC_STATUS_FOR = {S.ASSIGNED: "accepted", S.VERIFYING: "verifying", S.VERIFIED: "verifying"}


def action_label(name: str) -> str:
    action = ACTIONS.get(name)
    return str(action.label) if action else name


def table_error(status: str, action_name: str, role: str) -> TransitionError | None:
    """None when the table allows `role` to do `action_name` in lead `status`; else the readable refusal."""
    action = ACTIONS.get(action_name)
    if action is None:
        return TransitionError(_("未知操作“%(action)s”。") % {"action": action_name}, kind="invalid")
    if role not in action.roles:
        role_label = Role(role).label if role in Role.values else role
        return TransitionError(
            _("%(role)s无权执行“%(action)s”。") % {"role": role_label, "action": action.label},
            kind="forbidden",
        )
    if status not in action.statuses:
        return TransitionError(
            _("线索当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": LeadStatus(status).label if status else _("未登记"), "action": action.label},
            kind="state",
        )
    return None


def own_assignment(assignments: Iterable, user, statuses: Iterable[str]):
    """The actor's unit's assignment in one of `statuses` (at most one active per unit)."""
    statuses = set(statuses)
    for a in assignments:
        if a.unit_id == getattr(user, "unit_id", None) and a.status in statuses:
            return a
    return None


def _send_back_message(mine, now) -> str | None:
    if mine.send_back_refused:
        return _("市扫黑办已裁定不同意退单，该任务须由贵单位继续办理。")
    until = getattr(mine, "send_back_until", None)
    if until is not None and now > until:
        return _(
            "退单须在派单后 %(days)s 个工作日内提出（截止 %(until)s），已超过退单期限；确属职责范围外的，请与市扫黑办联系。"
        ) % {
            "days": leads_setting("SEND_BACK_WORKDAYS"),
            "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
        }
    return None


def _is_office_leader(user) -> bool:
    return bool(getattr(user, "is_office_leader", False))


def _precondition_message(action_name: str, lead, user, assignments: list, now) -> str | None:
    accepted = [AssignmentStatus.ACCEPTED]
    if action_name == "accept":
        if not own_assignment(assignments, user, [AssignmentStatus.ASSIGNED]):
            return _("贵单位没有待签收的分办任务。")
    elif action_name == "send_back":
        mine = own_assignment(assignments, user, [AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED])
        if not mine:
            return _("贵单位没有可以退单的分办任务。")
        return _send_back_message(mine, now)
    elif action_name in (
        "request_extension",
        "submit_result",
        "report_first",
        "report_stage",
        "request_sign_off",
    ):
        mine = own_assignment(assignments, user, accepted)
        if not mine:
            return _("贵单位没有正在核查的分办任务。")
        if action_name == "request_extension":
            if getattr(mine, "pending_extension", None):
                return _("已有一份延期申请在审批中。")
            if mine.extension_count >= leads_setting("EXTENSION_MAX_COUNT"):
                return _("该任务已延期 %(n)s 次，不能再申请延期；确需延期请与市扫黑办联系。") % {
                    "n": mine.extension_count
                }
            if mine.deadline < now:
                return _("办理期限已过，不能再申请延期。")
        elif action_name == "report_first" and mine.first_report_at is not None:
            return _("已报送首次回告。")
        elif action_name == "report_stage" and not (
            mine.first_report_at is not None or getattr(mine, "pending_stage", None)
        ):
            return _("请先报送首次回告。")
        elif (
            action_name == "submit_result" and leads_setting("REQUIRE_UNIT_SIGN_OFF") and not mine.signoff_id
        ):
            return _("核查结果须经本单位第一责任人签字背书后方可提交，请先“提请签字背书”。")
    elif action_name in ("sign_off", "decline_sign_off"):
        mine = own_assignment(assignments, user, accepted)
        if not mine or mine.signoff_requested_at is None or mine.signoff_id:
            return _("贵单位没有待签字背书的核查结果。")
    elif action_name in ("approve_extension", "refuse_extension"):
        if not any(getattr(a, "pending_extension", None) for a in assignments):
            return _("没有待审批的延期申请。")
    elif action_name == "request_stage_report":
        if not any(
            a.status == AssignmentStatus.ACCEPTED and not getattr(a, "pending_stage", None)
            for a in assignments
        ):
            return _("没有可以要求阶段回告的分办任务（均未签收或已有待回告的要求）。")
    elif action_name in ("accept_send_back", "refuse_send_back"):
        if not any(a.status == AssignmentStatus.SENT_BACK and a.closed_at is None for a in assignments):
            return _("没有待裁定的退单。")
    elif action_name == "return_for_reverification":
        if not any(a.status == AssignmentStatus.SUBMITTED for a in assignments):
            return _("没有已反馈的核查结果可以退回。")
    elif action_name == "reassign" and not any(
        a.is_active or (a.status == AssignmentStatus.SENT_BACK and a.closed_at is None) for a in assignments
    ):
        return _("没有可以改派的分办任务。")
    elif action_name == "sign_off_closure":
        if not _is_office_leader(user):
            return _("只有办领导可以签字背书。")
        if lead.closure_signoff_id:
            return _("办领导已签字背书。")
    elif action_name in ("review_escalate", "review_confirm") and not lead.review_pending:
        return _("该线索没有待评查事项。")
    elif action_name == "restrict" and lead.restricted:
        return _("该线索已限制知悉范围。")
    elif action_name == "unrestrict":
        if not lead.restricted:
            return _("该线索未限制知悉范围。")
        if not _is_office_leader(user):
            return _("只有办领导可以取消限制知悉范围。")
    return None


def action_error(action_name: str, lead, user, assignments: list, now=None) -> TransitionError | None:
    """Why `user` may not do `action_name` on `lead` now (None: allowed). `assignments` carry
    `pending_extension` and `pending_stage` (ids of a pending extension request / stage report request, or None)."""
    status = lead.status if lead is not None else ""
    error = table_error(status, action_name, getattr(user, "role", ""))
    if error or lead is None:
        return error
    message = _precondition_message(action_name, lead, user, assignments, now or timezone.now())
    return TransitionError(message, kind="state") if message else None


def allowed_actions(lead, user, assignments: list, now=None) -> list[str]:
    """The actions `user` may take on `lead` now, in table order (never "register")."""
    return [
        name
        for name, action in ACTIONS.items()
        if action.scope != "create" and action_error(name, lead, user, assignments, now) is None
    ]


def table_rows() -> list[dict]:
    """The table as rows for documentation pages and tests."""
    return [
        {
            "action": a.name,
            "label": str(a.label),
            "scope": a.scope,
            "statuses": sorted(a.statuses),
            "roles": sorted(a.roles),
        }
        for a in ACTIONS.values()
    ]
