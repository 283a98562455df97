"""Reference data of the campaign: regions, member units, sectors, phases, users, calendar, audit."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import Role


class Region(models.Model):
    """An administrative division: the city and its county-level districts."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        COUNTY = "county", _("县（市、区）")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, default=Level.COUNTY)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A member unit of the leading group (or the office itself, or a county office)."""

    class Kind(models.TextChoices):
        OFFICE = "office", _("扫黑办")
        POLICE = "police", _("公安机关")
        DEPARTMENT = "department", _("行业主管部门")
        JUDICIAL = "judicial", _("政法机关")
        DISCIPLINE = "discipline", _("纪检监察机关")
        COUNTY = "county", _("县级领导小组")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级单位")
    )
    region = models.ForeignKey(Region, models.PROTECT, related_name="units", verbose_name=_("所在区划"))
    head_name = models.CharField(_("第一责任人"), max_length=40, blank=True)
    head_title = models.CharField(_("第一责任人职务"), max_length=60, blank=True)
    hotline = models.CharField(_("举报电话"), max_length=60, blank=True)
    mailbox = models.CharField(_("举报信箱"), max_length=200, blank=True)
    email = models.EmailField(_("举报邮箱"), blank=True)
    website = models.URLField(_("网站"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    publish_channels = models.BooleanField(_("公开举报渠道"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("成员单位")
        verbose_name_plural = _("成员单位")

    def __str__(self) -> str:
        return self.name


class Sector(models.Model):
    """A key sector (重点行业领域) with the unit that regulates it."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    lead_unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="regulated_sectors", verbose_name=_("牵头监管单位")
    )
    description = models.TextField(_("说明"), blank=True)
    expected_leads_per_year = models.PositiveIntegerField(_("年度预期线索数"), default=0)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("重点行业领域")
        verbose_name_plural = _("重点行业领域")

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """A campaign phase (阶段性部署) with dates and focus sectors."""

    name = models.CharField(_("名称"), max_length=80)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    focus_sectors = models.ManyToManyField(
        Sector, blank=True, related_name="phases", verbose_name=_("重点领域")
    )
    description = models.TextField(_("工作要求"), blank=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("工作阶段")
        verbose_name_plural = _("工作阶段")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="phase_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal account with one role and, for unit roles, the unit it belongs to."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.OFFICE)
    unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("所属单位")
    )
    display_name = models.CharField(_("姓名"), max_length=40, blank=True)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    is_office_leader = models.BooleanField(
        _("办领导"), default=False, help_text=_("扫黑办领导：可签字背书查否办结、查看限制知悉线索。")
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["liaison", "unit_head"]) | models.Q(unit__isnull=False),
                name="unit_role_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday on a weekday or a make-up working weekend."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.note}"


class CalendarYear(models.Model):
    """A year whose holidays the office has entered; working-day arithmetic refuses years not covered."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=60, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("已维护日历年度")
        verbose_name_plural = _("已维护日历年度")

    def __str__(self) -> str:
        return str(self.year)


class PublicityActivity(models.Model):
    """A publicity activity (宣传发动) held by a unit."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("张贴海报")
        MEETING = "meeting", _("宣讲会议")
        MEDIA = "media", _("媒体宣传")
        DOOR = "door", _("入户走访")
        ONLINE = "online", _("网络宣传")

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="publicity", verbose_name=_("单位"))
    held_on = models.DateField(_("活动日期"))
    kind = models.CharField(_("形式"), max_length=20, choices=Kind.choices)
    place = models.CharField(_("地点"), max_length=120, blank=True)
    reach = models.PositiveIntegerField(_("覆盖人数"), default=0)
    description = models.TextField(_("内容"), blank=True)
    created_by = models.ForeignKey(User, models.PROTECT, related_name="+", verbose_name=_("录入人"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        ordering = ["-held_on"]
        indexes = [models.Index(fields=["unit", "held_on"], name="publicity_unit_date")]
        verbose_name = _("宣传发动记录")
        verbose_name_plural = _("宣传发动记录")

    def __str__(self) -> str:
        return f"{self.unit} {self.held_on} {self.get_kind_display()}"


class AuditEntry(models.Model):
    """One append-only audit row: logins, identity reveals, downloads, exports, role changes, actions."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作人")
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    target_id = models.CharField(_("对象"), max_length=60, blank=True)
    reason = models.TextField(_("事由"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")


class Notification(models.Model):
    """An in-app notification for one user (the notification centre and the unread badge)."""

    user = models.ForeignKey(User, models.CASCADE, related_name="notifications", verbose_name=_("接收人"))
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Same key twice never makes a second notification: escalation levels and retries rely on it.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
        ]
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")

    def __str__(self) -> str:
        return self.title


class OutboundMessage(models.Model):
    """An email or SMS waiting to be sent, written in the same transaction as what caused it (outbox)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("收件人"), max_length=200)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="outbox_pending")
        ]
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}: {self.subject or self.body[:30]}"


class UserSession(models.Model):
    """A signed-in session of a user, listed on "my sessions" so the user can log out elsewhere."""

    user = models.ForeignKey(User, models.CASCADE, related_name="sessions", verbose_name=_("用户"))
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)
    last_seen = models.DateTimeField(_("最近活动"), auto_now_add=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
