"""Home-page panels for the lead work of each role (registered in LeadsConfig.ready)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.roles import Role
from reports.models import Tip, TipStatus

from . import selectors
from .models import Assignment, AssignmentStatus, ExtensionRequest, LeadStatus

TEMPLATE = "leads/panels/counts.html"


def leads_panel(request):
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    if user.role == Role.OFFICE:
        visible = selectors.lead_list_visible_to(user)
        rows = [
            {
                "label": _("待研判举报"),
                "count": Tip.objects.filter(status=TipStatus.NEW).count(),
                "url": reverse("leads:triage"),
            },
            {
                "label": _("核查完毕待审核"),
                "count": visible.filter(status=LeadStatus.VERIFIED).count(),
                "url": reverse("leads:review"),
            },
            {
                "label": _("延期申请待审批"),
                "count": ExtensionRequest.objects.filter(
                    status=ExtensionRequest.Status.PENDING, assignment__lead__in=visible
                ).count(),
                "url": reverse("leads:review"),
            },
            {
                "label": _("退单待处理"),
                "count": Assignment.objects.filter(
                    status=AssignmentStatus.SENT_BACK, closed_at__isnull=True, lead__in=visible
                ).count(),
                "url": reverse("leads:review"),
            },
            {
                "label": _("超期线索"),
                "count": visible.exclude(status=LeadStatus.CLOSED).filter(deadline__lt=now).count(),
                "url": reverse("leads:list") + "?overdue=true",
                "css": "overdue",
            },
            {
                "label": _("红灯线索"),
                "count": visible.exclude(status=LeadStatus.CLOSED)
                .filter(selectors.light_q("red", now))
                .count(),
                "url": reverse("leads:list") + "?light=red",
            },
            {
                "label": _("查否线索待评查"),
                "count": visible.filter(review_pending=True).count(),
                "url": reverse("leads:reviews") + "?pending=1",
            },
        ]
        return {
            "title": _("线索办理"),
            "icon": "clipboard-check",
            "template": TEMPLATE,
            "rows": rows,
            "order": 20,
        }
    if user.role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        counts = selectors.workspace_counts(user, now)
        url = reverse("leads:workspace" if user.role == Role.LIAISON else "leads:unit_due")
        lights = selectors.light_counts([user.unit_id], now=now, user=user).get(user.unit_id, {})
        rows = []
        if user.role == Role.UNIT_HEAD:
            waiting = selectors.assignment_list_signoff(user=user).count()
            rows.append(
                {
                    "label": _("待签字背书"),
                    "count": waiting,
                    "url": reverse("leads:signoffs"),
                    "css": "text-danger" if waiting else "",
                }
            )
        rows += [
            {
                "label": _("待签收"),
                "count": counts["to_accept"],
                "url": url,
                "css": "text-danger" if counts["to_accept"] else "",
            },
            {"label": _("办理中"), "count": counts["open"], "url": url},
            {"label": _("即将到期"), "count": counts["near_due"], "url": reverse("leads:unit_due")},
            {
                "label": _("红灯"),
                "count": lights.get("red", 0),
                "url": url + "?light=red",
            },
            {
                "label": _("已超期"),
                "count": counts["overdue"],
                "url": reverse("leads:unit_due"),
                "css": "overdue",
            },
        ]
        return {
            "title": _("本单位核查任务"),
            "icon": "list-task",
            "template": TEMPLATE,
            "rows": rows,
            "order": 20,
        }
    if user.role in (Role.LEADER, Role.ADMIN, Role.POLICE, Role.DISCIPLINE):
        counts = selectors.status_counts(selectors.lead_list_visible_to(user))
        rows = [
            {"label": label, "count": counts.get(value, 0), "url": reverse("leads:list") + f"?status={value}"}
            for value, label in LeadStatus.choices
        ]
        return {"title": _("线索概况"), "icon": "bar-chart", "template": TEMPLATE, "rows": rows, "order": 30}
    return None
