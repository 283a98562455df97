"""The escalation ladder of an assignment (DESIGN.md), stored in Assignment.escalation_level.

Each level fires once per assignment: the sweep moves an assignment up only, and an extension that moves
the deadline resets the level so the ladder is climbed again against the new deadline. Accountability
finds levels SUPERVISION and ACCOUNTABILITY in its own sweep and drafts documents for the office.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("正常")
    REMINDER = 1, _("到期前催办")
    OVERDUE = 2, _("已超期")
    SUPERVISION = 3, _("督办")
    ACCOUNTABILITY = 4, _("问责建议")
