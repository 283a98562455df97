"""The related panel on the staff tip page (reports.panels), loaded by htmx so the tip page stays fast."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import access


def related_tip_panel(request, tip):
    if getattr(request.user, "role", None) not in access.RELATED_ROLES:
        return None
    return {
        "title": _("串并：关联举报、线索和案件"),
        "icon": "diagram-3",
        "template": "linking/panels/tip_related.html",
        "url": reverse("linking:tip_related", args=[tip.pk]),
        "order": 50,
    }
