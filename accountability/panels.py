"""Home-page panels: open drafts for the office; the unit's open rectifications and tasks for its people."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.roles import Role

from . import selectors
from .models import ActionStatus, TaskStatus, UnitTask

TEMPLATE = "accountability/panels/list.html"


def accountability_panel(request):
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    if user.role == Role.OFFICE:
        drafts = selectors.proposal_queue()
        overdue = selectors.action_list_visible_to(user).filter(status=ActionStatus.OVERDUE).count()
        to_review = UnitTask.objects.filter(status=TaskStatus.SUBMITTED).count()
        return {
            "title": _("问责建议待确认"),
            "icon": "exclamation-octagon",
            "template": TEMPLATE,
            "url": reverse("accountability:proposals"),
            "entries": [
                {
                    "label": a.title,
                    "meta": f"{a.get_kind_display()} · {a.get_source_display()}",
                    "url": reverse("accountability:action-detail", args=[a.pk]),
                }
                for a in drafts[:5]
            ],
            "total": drafts.count(),
            "empty": _("没有待确认的问责建议。"),
            "counts": [
                {
                    "label": _("整改逾期的措施"),
                    "count": overdue,
                    "url": reverse("accountability:actions") + "?status=overdue",
                    "css": "overdue",
                },
                {
                    "label": _("任务报结待审核"),
                    "count": to_review,
                    "url": reverse("accountability:tasks") + "?status=submitted",
                },
            ],
            "order": 30,
        }
    if user.role in (Role.LIAISON, Role.UNIT_HEAD) and user.unit_id:
        items = list(selectors.rectification_items_for_unit(user.unit_id)[:6])
        tasks = selectors.unit_task_open_for_unit(user.unit_id)
        return {
            "title": _("本单位整改与任务"),
            "icon": "tools",
            "template": TEMPLATE,
            "url": reverse("accountability:rectification"),
            "entries": [
                {
                    "label": f"{i.action.doc_number} 第{i.seq}项：{i.description[:30]}",
                    "meta": _("期限 %(date)s · %(status)s")
                    % {
                        "date": timezone.localtime(i.deadline).strftime("%Y-%m-%d") if i.deadline else "—",
                        "status": i.get_status_display(),
                    },
                    "url": reverse("accountability:action-detail", args=[i.action_id]),
                    "css": "overdue" if i.is_overdue(now) else "",
                }
                for i in items
            ],
            "total": selectors.rectification_items_for_unit(user.unit_id).count(),
            "empty": _("本单位没有待整改事项。"),
            "counts": [
                {"label": _("待办工作任务"), "count": tasks.count(), "url": reverse("accountability:tasks")},
                {
                    "label": _("逾期工作任务"),
                    "count": tasks.filter(deadline__lt=now).count(),
                    "url": reverse("accountability:tasks") + "?status=overdue",
                    "css": "overdue",
                },
            ],
            "order": 30,
        }
    return None
