"""User roles. The permission matrix (campaign/permissions.py) says what each may do."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICE = "office", _("扫黑办工作人员")
    POLICE = "police", _("公安受理人员")
    LIAISON = "liaison", _("成员单位联络员")
    UNIT_HEAD = "unit_head", _("第一责任人")
    LEADER = "leader", _("领导")
    DISCIPLINE = "discipline", _("纪委监委")
    ADMIN = "admin", _("系统管理员")


STAFF_ROLES = {Role.OFFICE, Role.POLICE, Role.ADMIN}
UNIT_ROLES = {Role.LIAISON, Role.UNIT_HEAD}
