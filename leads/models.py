"""Leads: registered matters to verify, their assignments to units, timeline, extensions and routing rules."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit


class LeadStatus(models.TextChoices):
    """The life cycle of DESIGN.md; derived from the assignments after every action (except closed)."""

    REGISTERED = "registered", _("受理登记")
    ASSIGNED = "assigned", _("已分办")
    VERIFYING = "verifying", _("核查中")
    VERIFIED = "verified", _("核查完毕")
    CLOSED = "closed", _("办结")


class Priority(models.TextChoices):
    NORMAL = "normal", _("一般")
    HIGH = "high", _("重要")
    URGENT = "urgent", _("紧急")


class Result(models.TextChoices):
    """Verification results (核查结论)."""

    SUBSTANTIATED = "substantiated", _("属实")
    PARTLY = "partly", _("部分属实")
    UNSUBSTANTIATED = "unsubstantiated", _("不属实")
    CANNOT_VERIFY = "cannot_verify", _("无法核实")


class Disposition(models.TextChoices):
    """How a closed lead was dealt with (办结方式)."""

    CRIMINAL_CASE = "criminal_case", _("刑事立案")
    ADMINISTRATIVE_PENALTY = "administrative_penalty", _("行政处罚")
    DISCIPLINE_REFERRAL = "discipline_referral", _("移送纪委监委")
    NO_ACTION = "no_action", _("不予处理")


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", _("待签收")
    ACCEPTED = "accepted", _("核查中")
    SUBMITTED = "submitted", _("已反馈")
    SENT_BACK = "sent_back", _("已退单")
    WITHDRAWN = "withdrawn", _("已改派")


# Active assignments count towards the lead's state; "open" ones are still running against a deadline.
ACTIVE_ASSIGNMENT_STATUSES = (
    AssignmentStatus.ASSIGNED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.SUBMITTED,
)
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)


class LeadSource(models.Model):
    """Where leads come from (线索来源): a list the office maintains."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("线索来源")
        verbose_name_plural = _("线索来源")

    def __str__(self) -> str:
        return self.name


class LeadNumberCounter(models.Model):
    """The last lead number issued in a year; incremented in one UPSERT so concurrent registrations never clash."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("线索编号计数器")
        verbose_name_plural = _("线索编号计数器")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class DeadlinePolicy(models.Model):
    """Default verification time in working days for a sector and priority (blank = any)."""

    sector = models.ForeignKey(
        Sector, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("行业领域")
    )
    priority = models.CharField(_("紧急程度"), max_length=10, choices=Priority.choices, blank=True)
    days = models.PositiveSmallIntegerField(_("核查时限（工作日）"))
    accept_days = models.PositiveSmallIntegerField(_("签收时限（工作日）"), default=1)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["sector__sort_order", "priority"]
        verbose_name = _("核查时限")
        verbose_name_plural = _("核查时限")
        constraints = [
            models.UniqueConstraint(
                fields=["sector", "priority"], name="deadline_policy_unique", nulls_distinct=False
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="deadline_policy_days_positive"),
        ]

    def __str__(self) -> str:
        sector = self.sector.name if self.sector_id else _("全部行业")
        priority = self.get_priority_display() if self.priority else _("全部紧急程度")
        return f"{sector} · {priority} · {self.days}"


class RoutingRule(models.Model):
    """Sector × region (× keywords) → unit(s); the first matching rule by priority proposes the units."""

    name = models.CharField(_("规则名称"), max_length=80)
    sector = models.ForeignKey(
        Sector,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        verbose_name=_("行业领域"),
    )
    region = models.ForeignKey(
        Region,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        verbose_name=_("地区"),
        help_text=_("留空适用全市；选择市级区划同样适用其下所有县区。"),
    )
    keywords = models.CharField(
        _("关键词"),
        max_length=300,
        blank=True,
        help_text=_("可选，多个用逗号或空格分隔；举报内容含任一关键词时规则才适用。"),
    )
    units = models.ManyToManyField(Unit, related_name="routing_rules", verbose_name=_("承办单位"))
    priority = models.PositiveSmallIntegerField(_("优先顺序"), default=100, help_text=_("数字小的先匹配。"))
    deadline_days = models.PositiveSmallIntegerField(
        _("核查时限（工作日）"), null=True, blank=True, help_text=_("留空按“核查时限”配置。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("分办规则")
        verbose_name_plural = _("分办规则")
        indexes = [models.Index(fields=["sector", "priority"], name="routing_rule_sector")]

    def __str__(self) -> str:
        return f"{self.priority} {self.name}"

    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace("，", ",").replace(",", " ").split() if k]


class Lead(models.Model):
    """A registered matter to verify (线索), from one or more tips or found directly by police or the office."""

    number = models.CharField(_("线索编号"), max_length=30, unique=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.REGISTERED
    )
    source = models.ForeignKey(
        LeadSource, models.PROTECT, null=True, blank=True, related_name="leads", verbose_name=_("线索来源")
    )
    origin_reference = models.CharField(_("来文编号"), max_length=100, blank=True)
    summary = models.TextField(_("线索摘要"))
    accused = models.TextField(_("涉及人员/单位"), blank=True)
    sector = models.ForeignKey(Sector, models.PROTECT, related_name="leads", verbose_name=_("行业领域"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="leads", verbose_name=_("发生地区"))
    priority = models.CharField(
        _("紧急程度"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    restricted = models.BooleanField(
        _("限制知悉范围"), default=False, help_text=_("仅登记人、承办人、办领导和纪委监委可见。")
    )
    tips = models.ManyToManyField(
        "reports.Tip", through="LeadTip", related_name="leads", verbose_name=_("来源举报")
    )
    # Earliest deadline among open assignments, kept by the services so lists sort and filter in SQL.
    deadline = models.DateTimeField(_("最近期限"), null=True, blank=True)
    result = models.CharField(_("核查结论"), max_length=20, choices=Result.choices, blank=True)
    disposition = models.CharField(_("办结方式"), max_length=30, choices=Disposition.choices, blank=True)
    closing_note = models.TextField(_("办结意见"), blank=True)
    public_conclusion = models.TextField(_("向举报人公开的办理结果"), blank=True)
    discipline_referred = models.BooleanField(_("移送纪委监委"), default=False)
    discipline_referred_at = models.DateTimeField(_("移送时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    verified_at = models.DateTimeField(_("核查完毕时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办结人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_created_desc"),
            models.Index(fields=["status", "-created_at"], name="lead_status_created"),
            models.Index(fields=["sector", "region", "status"], name="lead_sector_region_status"),
            models.Index(
                fields=["deadline"],
                condition=~models.Q(status="closed") & models.Q(deadline__isnull=False),
                name="lead_open_deadline",
            ),
            models.Index(
                fields=["-closed_at"], condition=models.Q(discipline_referred=True), name="lead_referred"
            ),
            models.Index(fields=["source", "status"], name="lead_source_status"),
            GinIndex(OpClass("summary", name="gin_trgm_ops"), name="lead_summary_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(disposition=""),
                name="lead_closed_has_disposition",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status != LeadStatus.CLOSED and self.deadline is not None and self.deadline < now


class LeadTip(models.Model):
    """A tip joined to a lead (registered from it or merged in later); a tip belongs to one lead at most."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("登记")
        MERGED = "merged", _("并入")

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="lead_tips", verbose_name=_("线索"))
    tip = models.OneToOneField(
        "reports.Tip", models.PROTECT, related_name="lead_link", verbose_name=_("举报")
    )
    kind = models.CharField(_("方式"), max_length=12, choices=Kind.choices, default=Kind.REGISTERED)
    added_at = models.DateTimeField(_("时间"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("线索来源举报")
        verbose_name_plural = _("线索来源举报")
        indexes = [models.Index(fields=["lead"], name="leadtip_lead")]

    def __str__(self) -> str:
        return f"{self.lead_id} ← {self.tip_id}"


class Assignment(models.Model):
    """One unit's share of a lead (分办): its own deadline, acceptance, findings and result."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="assignments", verbose_name=_("线索"))
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="assignments", verbose_name=_("承办单位"))
    status = models.CharField(
        _("状态"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    is_primary = models.BooleanField(_("主办"), default=False)
    assigned_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("派单人")
    )
    routing_reason = models.CharField(_("分办依据"), max_length=300, blank=True)
    deadline = models.DateTimeField(_("办理期限"))
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签收人"),
    )
    result = models.CharField(_("核查结论"), max_length=20, choices=Result.choices, blank=True)
    findings = models.TextField(_("核查情况"), blank=True)
    submitted_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("反馈人"),
    )
    sent_back_at = models.DateTimeField(_("退单时间"), null=True, blank=True)
    sent_back_reason = models.TextField(_("退单理由"), blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    returned_count = models.PositiveSmallIntegerField(_("退回重查次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("已延期次数"), default=0)
    # Escalation sweeps (issue 5) record the highest level already fired, so each level fires once.
    escalation_level = models.PositiveSmallIntegerField(_("督办等级"), default=0)
    escalated_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True)
    # "Assigned but not signed for within N working days" fires once per assignment (leads/escalation.py).
    accept_overdue_at = models.DateTimeField(_("签收超时提醒时间"), null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("分办任务")
        verbose_name_plural = _("分办任务")
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=models.Q(status__in=["assigned", "accepted"]),
                name="assignment_open_deadline",
            ),
            models.Index(fields=["unit", "status", "deadline"], name="assignment_unit_status"),
            models.Index(fields=["lead", "status"], name="assignment_lead_status"),
            # Escalation sweep: one index range per level below the target (escalation_level = ANY(...)).
            models.Index(
                fields=["escalation_level", "deadline"],
                condition=models.Q(status__in=["assigned", "accepted"]),
                name="assignment_escalation",
            ),
            models.Index(
                fields=["assigned_at"],
                condition=models.Q(status="assigned", accept_overdue_at__isnull=True),
                name="assignment_not_accepted",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "unit"],
                condition=models.Q(status__in=["assigned", "accepted", "submitted"]),
                name="assignment_one_active_per_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="submitted") | (~models.Q(result="") & ~models.Q(findings="")),
                name="assignment_submitted_has_result",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.unit_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASSIGNMENT_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT_STATUSES

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.deadline < (now or timezone.now())


class ExtensionRequest(models.Model):
    """A liaison's request for more time on an assignment (延期申请), decided by the office."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("不同意")
        WITHDRAWN = "withdrawn", _("已撤回")

    assignment = models.ForeignKey(
        Assignment, models.CASCADE, related_name="extensions", verbose_name=_("分办任务")
    )
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.TextField(_("延期理由"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    old_deadline = models.DateTimeField(_("原期限"))
    new_deadline = models.DateTimeField(_("新期限"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(status="pending"), name="extension_one_pending"
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="extension_days_positive"),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"], condition=models.Q(status="pending"), name="extension_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} +{self.days}"


class LeadEvent(models.Model):
    """One timeline entry of a lead: who did what, when, the status before and after, and the note."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="events", verbose_name=_("线索"))
    assignment = models.ForeignKey(
        Assignment, models.SET_NULL, null=True, blank=True, related_name="events", verbose_name=_("分办任务")
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("操作"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("线索办理记录")
        verbose_name_plural = _("线索办理记录")
        indexes = [
            models.Index(fields=["lead", "at"], name="leadevent_lead_at"),
            models.Index(fields=["actor", "lead"], name="leadevent_actor_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.action}"


def _attachment_path(instance: "LeadAttachment", filename: str) -> str:
    # Stored names never reuse the uploader's file name (path tricks, identifying names).
    import uuid

    now = timezone.now()
    return f"leads/{now:%Y/%m}/{uuid.uuid4().hex}"


class LeadAttachment(models.Model):
    """A file attached to a lead, usually to a unit's findings; served only through a scoped view."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="attachments", verbose_name=_("线索"))
    assignment = models.ForeignKey(
        Assignment,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("分办任务"),
    )
    event = models.ForeignKey(
        LeadEvent,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("办理记录"),
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("线索附件")
        verbose_name_plural = _("线索附件")

    def __str__(self) -> str:
        return self.name
