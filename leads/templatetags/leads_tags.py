"""Display helpers for lead pages: traffic lights, working days left, status colours, event wording."""

from django import template
from django.utils.translation import gettext as _

from ..models import AssignmentStatus, LeadStatus
from ..selectors import traffic_light, workdays_left
from ..workflow import ACTIONS

register = template.Library()

LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "black": "超期"}


@register.filter
def light_label(color):
    return _(LIGHT_LABELS.get(color, "")) if color else ""


STATUS_CLASSES = {
    LeadStatus.REGISTERED: "text-bg-secondary",
    LeadStatus.ASSIGNED: "text-bg-info",
    LeadStatus.VERIFYING: "text-bg-primary",
    LeadStatus.VERIFIED: "text-bg-warning",
    LeadStatus.CLOSED: "text-bg-success",
    AssignmentStatus.ACCEPTED: "text-bg-primary",
    AssignmentStatus.SUBMITTED: "text-bg-warning",
    AssignmentStatus.SENT_BACK: "text-bg-danger",
    AssignmentStatus.WITHDRAWN: "text-bg-light",
}


@register.inclusion_tag("leads/partials/light.html")
def light(deadline, now=None):
    color = traffic_light(deadline, now)
    return {"color": color, "label": _(LIGHT_LABELS.get(color, ""))}


@register.simple_tag
def days_left(deadline, now=None):
    """“剩 3 个工作日” / “今日到期” / “超期 2 个工作日”."""
    if deadline is None:
        return ""
    n = workdays_left(deadline, now)
    if now is not None and deadline < now and n >= 0:
        return _("今日超期")
    if n > 0:
        return _("剩 %(n)s 个工作日") % {"n": n}
    if n == 0:
        return _("今日到期")
    return _("超期 %(n)s 个工作日") % {"n": -n}


@register.filter
def status_class(status):
    return STATUS_CLASSES.get(status, "text-bg-secondary")


# Timeline entries written by the system (sweeps, intake), which are not actions of the table.
SYSTEM_EVENT_LABELS = {
    "register": "受理登记",
    "escalate": "系统督办",
    "accept_overdue": "交办未签收提醒",
    "sign_for_reminder": "签收催办",
    "sign_for_escalated": "签收超时督办",
    "report_reminder": "首次回告催报",
    "stage_reminder": "阶段回告催报",
    "repeat_report": "查否后再次被举报",
    "callback": "回访",
}


@register.filter
def action_label(name):
    action = ACTIONS.get(name)
    if action:
        return action.label
    label = SYSTEM_EVENT_LABELS.get(name)
    return _(label) if label else name


@register.filter
def lead_status_label(value):
    try:
        return LeadStatus(value).label
    except ValueError:
        return value or ""


ACTION_ICONS = {
    "assign": "send",
    "accept": "check2-square",
    "send_back": "arrow-return-left",
    "request_extension": "hourglass-split",
    "approve_extension": "calendar-check",
    "refuse_extension": "calendar-x",
    "submit_result": "file-earmark-check",
    "return_for_reverification": "arrow-counterclockwise",
    "reassign": "arrow-left-right",
    "close": "check-circle",
    "reopen": "arrow-repeat",
    "merge": "union",
    "report_first": "chat-left-text",
    "report_stage": "chat-left-dots",
    "request_stage_report": "chat-square-quote",
    "request_sign_off": "pen",
    "sign_off": "patch-check",
    "decline_sign_off": "arrow-counterclockwise",
    "accept_send_back": "check2-circle",
    "refuse_send_back": "x-circle",
    "sign_off_closure": "patch-check-fill",
    "review_escalate": "arrow-up-circle",
    "review_confirm": "check2-all",
    "restrict": "lock",
    "unrestrict": "unlock",
}


@register.filter
def action_icon(name):
    return ACTION_ICONS.get(name, "circle")
