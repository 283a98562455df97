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
    # 评查 (issue 11): new related tips after a 查否 closure, and whether the office still has to decide.
    repeat_count = models.PositiveIntegerField(_("重复举报次数"), default=0, db_default=0)
    review_pending = models.BooleanField(_("待评查"), default=False, db_default=False)
    escalated_handling = models.BooleanField(_("提级办理"), default=False, db_default=False)
    # The office leader's sign-off that a 查否 closure needs; cleared when the lead leaves "verified".
    closure_signoff = models.ForeignKey(
        "SignOff",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办结签字背书"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_created_desc"),
            models.Index(fields=["status", "-created_at"], name="lead_status_created"),
            # Sector + region, newest first: the register's filters and the linking/routing candidate scans
            # ("the most recent leads of this sector and region") read only the rows they return.
            models.Index(
                fields=["sector", "region", "-created_at", "status"], name="lead_sector_region_created"
            ),
            models.Index(
                fields=["deadline"],
                condition=~models.Q(status="closed") & models.Q(deadline__isnull=False),
                name="lead_open_deadline",
            ),
            models.Index(
                fields=["-closed_at"], condition=models.Q(discipline_referred=True), name="lead_referred"
            ),
            models.Index(fields=["source", "status"], name="lead_source_status"),
            models.Index(
                fields=["-repeat_count", "-closed_at"],
                condition=models.Q(repeat_count__gt=0),
                name="lead_repeat_reported",
            ),
            models.Index(
                fields=["-closed_at"], condition=models.Q(review_pending=True), name="lead_review_pending"
            ),
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

    # Indexes: every one gets an entry for every row the escalation sweep moves up (a million open rows,
    # 50k moving at once), so there are none a query does not use. `lead` and `unit` are covered by
    # assignment_lead_status / assignment_unit_status; the user foreign keys are never filtered on (only
    # deleting a user looks them up: a scan of this table, for a rare admin action) or are indexed only
    # where set (assignment_submitted_by …, not set on open assignments).
    lead = models.ForeignKey(
        Lead, models.CASCADE, related_name="assignments", verbose_name=_("线索"), db_index=False
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="assignments", verbose_name=_("承办单位"), db_index=False
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    is_primary = models.BooleanField(_("主办"), default=False)
    assigned_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("派单人"), db_index=False
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
        db_index=False,
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
        db_index=False,
    )
    sent_back_at = models.DateTimeField(_("退单时间"), null=True, blank=True)
    sent_back_reason = models.TextField(_("退单理由"), blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    returned_count = models.PositiveSmallIntegerField(_("退回重查次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("已延期次数"), default=0)
    # Escalation sweeps (issue 5) record the highest level already fired, so each level fires once.
    escalation_level = models.PositiveSmallIntegerField(_("督办等级"), default=0)
    escalated_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True)
    # The deadline the stored escalation level was reached against; when a deadline moves without the
    # level being reset (any code path), the sweep starts the ladder again (leads/escalation.py).
    escalated_deadline = models.DateTimeField(_("督办所依期限"), null=True, blank=True)
    # --- case-handling practice (issue 11) ---
    verify_days = models.PositiveSmallIntegerField(_("核查时限（工作日）"), null=True, blank=True)
    accept_deadline = models.DateTimeField(_("签收期限"), null=True, blank=True)
    send_back_until = models.DateTimeField(_("退单期限"), null=True, blank=True)
    send_back_refused = models.BooleanField(_("退单未获同意"), default=False, db_default=False)
    # The practice sweep's sign-for ladder: 1 reminded the liaisons, 2 told the unit head and the office.
    sign_for_level = models.PositiveSmallIntegerField(_("签收催办等级"), default=0, db_default=0)
    sign_for_notified_at = models.DateTimeField(_("签收催办时间"), null=True, blank=True)
    first_report_due = models.DateTimeField(_("首次回告期限"), null=True, blank=True)
    first_report_at = models.DateTimeField(_("首次回告时间"), null=True, blank=True)
    first_report_reminded_at = models.DateTimeField(_("首次回告催报时间"), null=True, blank=True)
    # The result the liaison put to the unit head for sign-off (签字背书), submitted as it was signed.
    draft_result = models.CharField(
        _("拟报核查结论"), max_length=20, choices=Result.choices, blank=True, db_default=""
    )
    draft_findings = models.TextField(_("拟报核查情况"), blank=True, db_default="")
    signoff_requested_at = models.DateTimeField(_("提请签字时间"), null=True, blank=True)
    signoff_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提请人"),
        db_index=False,
    )
    signoff = models.ForeignKey(
        "SignOff",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("第一责任人签字背书"),
        db_index=False,
    )

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
            # Escalation sweep: per stored level, open assignments by deadline. One small index per level
            # (not one on (level, deadline)) so the planner never prefers assignment_open_deadline and
            # filters a whole window of already-escalated rows on every beat.
            *[
                models.Index(
                    fields=["deadline"],
                    condition=models.Q(status__in=["assigned", "accepted"], escalation_level=level),
                    name=f"assignment_escalation_{level}",
                )
                for level in range(4)
            ],
            # Escalated against a deadline that has since moved: usually empty, so the reset is one probe.
            models.Index(
                fields=["id"],
                condition=models.Q(status__in=["assigned", "accepted"], escalation_level__gt=0)
                & (
                    models.Q(escalated_deadline__lt=models.F("deadline"))
                    | models.Q(escalated_deadline__gt=models.F("deadline"))
                ),
                name="assignment_escalation_stale",
            ),
            # Practice sweep: sign-for ladder and missing first report-backs, one index range each.
            models.Index(
                fields=["sign_for_level", "accept_deadline"],
                condition=models.Q(status="assigned"),
                name="assignment_sign_for",
            ),
            models.Index(
                fields=["first_report_due"],
                condition=models.Q(
                    status="accepted", first_report_at__isnull=True, first_report_reminded_at__isnull=True
                ),
                name="assignment_first_report",
            ),
            models.Index(
                fields=["unit", "signoff_requested_at"],
                condition=models.Q(
                    status="accepted", signoff_requested_at__isnull=False, signoff__isnull=True
                ),
                name="assignment_signoff_waiting",
            ),
            # Foreign keys looked up only when the user or sign-off is deleted; never set on open rows.
            *[
                models.Index(fields=[field], condition=models.Q(**{f"{field}__isnull": False}), name=name)
                for field, name in (
                    ("submitted_by", "assignment_submitted_by"),
                    ("signoff_requested_by", "assignment_signoff_req_by"),
                    ("signoff", "assignment_signoff"),
                )
            ],
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

    # `lead` and `actor` are covered by leadevent_lead_at / leadevent_actor_lead (the sweep writes 50k
    # events at once; each index costs every one of them).
    lead = models.ForeignKey(
        Lead, models.CASCADE, related_name="events", verbose_name=_("线索"), db_index=False
    )
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
        db_index=False,
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
            # A person's events (selectors: leads they handled; deleting a user): system events (the sweeps
            # write tens of thousands at once, actor NULL) are not indexed here.
            models.Index(
                fields=["actor", "lead"], condition=models.Q(actor__isnull=False), name="leadevent_actor_lead"
            ),
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


# --- case-handling practice (issue 11) -----------------------------------------------------------
class SendBack(models.Model):
    """A unit's send-back of an assignment (退单) with its reasons, and the office's arbitration."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待裁定")
        ACCEPTED = "accepted", _("同意退单")
        REFUSED = "refused", _("不同意退单")

    assignment = models.ForeignKey(
        Assignment, models.CASCADE, related_name="send_backs", verbose_name=_("分办任务")
    )
    lead = models.ForeignKey(Lead, models.CASCADE, related_name="send_backs", verbose_name=_("线索"))
    # Copied from the assignment: assessments count per unit and period from one index.
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="send_backs", verbose_name=_("退单单位"))
    reason = models.TextField(_("退单理由"))
    status_before = models.CharField(_("退单前任务状态"), max_length=20, choices=AssignmentStatus.choices)
    sent_back_at = models.DateTimeField(_("退单时间"), default=timezone.now)
    sent_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("退单人")
    )
    decision = models.CharField(
        _("裁定"), max_length=10, choices=Decision.choices, default=Decision.PENDING, db_default="pending"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("裁定人"),
    )
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decision_note = models.TextField(_("裁定意见"), blank=True)

    class Meta:
        ordering = ["-sent_back_at", "-id"]
        verbose_name = _("退单")
        verbose_name_plural = _("退单")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(decision="pending"), name="sendback_one_pending"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "sent_back_at"], name="sendback_unit_at"),
            models.Index(
                fields=["sent_back_at"], condition=models.Q(decision="pending"), name="sendback_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.get_decision_display()}"


class SignOff(models.Model):
    """A responsible leader's sign-off (签字背书): a unit head on the unit's result, or an office leader on
    a closure; `fingerprint` is what was signed, so a changed result needs a new signature."""

    class Kind(models.TextChoices):
        UNIT_RESULT = "unit_result", _("第一责任人签字背书")
        CLOSURE = "closure", _("办领导签字背书")

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="signoffs", verbose_name=_("线索"))
    assignment = models.ForeignKey(
        Assignment,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="signoffs",
        verbose_name=_("分办任务"),
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    result = models.CharField(_("核查结论"), max_length=20, choices=Result.choices)
    fingerprint = models.CharField(_("签署内容摘要"), max_length=64)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("签字人")
    )
    # As shown on paper: the name and post at the time of signing, not whatever the account says later.
    signer_name = models.CharField(_("签字人姓名"), max_length=40)
    signer_title = models.CharField(_("签字人职务"), max_length=80, blank=True)
    signed_at = models.DateTimeField(_("签字时间"), default=timezone.now)
    note = models.TextField(_("签字意见"), blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("签字背书")
        verbose_name_plural = _("签字背书")
        indexes = [models.Index(fields=["lead", "signed_at"], name="signoff_lead_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.signer_name}"


class StageReportRequest(models.Model):
    """The office asking a unit for a stage report-back (阶段回告) by a date."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待回告")
        FULFILLED = "fulfilled", _("已回告")
        CANCELLED = "cancelled", _("已取消")

    assignment = models.ForeignKey(
        Assignment, models.CASCADE, related_name="stage_requests", verbose_name=_("分办任务")
    )
    lead = models.ForeignKey(Lead, models.CASCADE, related_name="stage_requests", verbose_name=_("线索"))
    note = models.TextField(_("回告要求"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("要求人")
    )
    requested_at = models.DateTimeField(_("要求时间"), default=timezone.now)
    due_at = models.DateTimeField(_("回告期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_default="pending"
    )
    fulfilled_at = models.DateTimeField(_("回告时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("催报时间"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("阶段回告要求")
        verbose_name_plural = _("阶段回告要求")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(status="pending"), name="stage_request_one_pending"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending", reminded_at__isnull=True),
                name="stage_request_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.get_status_display()}"


class ReportBack(models.Model):
    """A unit's report-back (回告): first within N working days of signing, stage ones when asked, and the
    final one with the result. Its timeline event carries the attachments."""

    class Kind(models.TextChoices):
        FIRST = "first", _("首次回告")
        STAGE = "stage", _("阶段回告")
        FINAL = "final", _("末次回告")

    assignment = models.ForeignKey(
        Assignment, models.CASCADE, related_name="report_backs", verbose_name=_("分办任务")
    )
    lead = models.ForeignKey(Lead, models.CASCADE, related_name="report_backs", verbose_name=_("线索"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    body = models.TextField(_("回告内容"))
    stage_request = models.ForeignKey(
        StageReportRequest,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("对应要求"),
    )
    event = models.ForeignKey(
        LeadEvent, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("办理记录")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("回告人")
    )
    created_at = models.DateTimeField(_("回告时间"), default=timezone.now)
    due_at = models.DateTimeField(_("回告期限"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("回告")
        verbose_name_plural = _("回告")
        indexes = [models.Index(fields=["assignment", "kind"], name="reportback_assignment_kind")]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.get_kind_display()}"

    @property
    def is_late(self) -> bool:
        return self.due_at is not None and self.created_at > self.due_at


class LeadReview(models.Model):
    """A review (评查) of a closed lead: reported again after a 查否 closure, or an unsatisfied call-back.
    The office reopens it with escalated handling (提级办理) or confirms the conclusion with reasons."""

    class Source(models.TextChoices):
        REPEAT = "repeat", _("查否后重复举报")
        CALLBACK = "callback", _("回访不满意")

    class Status(models.TextChoices):
        PENDING = "pending", _("待评查")
        ESCALATED = "escalated", _("提级办理")
        CONFIRMED = "confirmed", _("维持原结论")

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="reviews", verbose_name=_("线索"))
    source = models.CharField(_("起因"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_default="pending"
    )
    opened_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评查人"),
    )
    decided_at = models.DateTimeField(_("评查时间"), null=True, blank=True)
    decision_note = models.TextField(_("评查意见"), blank=True)
    units = models.JSONField(_("提级承办单位"), default=list, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("评查")
        verbose_name_plural = _("评查")
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(status="pending"), name="review_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.get_status_display()}"


class LeadKey(models.Model):
    """An identifier (phone, ID number, company …) of a lead closed as 查否, taken from its text and its
    tips when it closed, so a new tip naming it is found with one indexed lookup."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="keys", verbose_name=_("线索"))
    kind = models.CharField(_("类型"), max_length=12)
    value = models.CharField(_("值"), max_length=200)

    class Meta:
        verbose_name = _("查否线索识别要素")
        verbose_name_plural = _("查否线索识别要素")
        constraints = [models.UniqueConstraint(fields=["kind", "value", "lead"], name="leadkey_unique")]
        indexes = [models.Index(fields=["lead"], name="leadkey_lead")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class RepeatReport(models.Model):
    """A new tip that names what a lead closed as 查否 named (the same phone, ID number, company …)."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="repeat_reports", verbose_name=_("线索"))
    tip = models.ForeignKey("reports.Tip", models.CASCADE, related_name="+", verbose_name=_("新举报"))
    review = models.ForeignKey(
        LeadReview, models.SET_NULL, null=True, blank=True, related_name="repeats", verbose_name=_("评查")
    )
    # [{"kind": "phone", "value": "138****5678"}] — masked: the numbers may be the informant's own.
    matched = models.JSONField(_("相同要素"), default=list)
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("查否后重复举报")
        verbose_name_plural = _("查否后重复举报")
        constraints = [models.UniqueConstraint(fields=["lead", "tip"], name="repeat_lead_tip")]

    def __str__(self) -> str:
        return f"{self.lead_id} ← {self.tip_id}"


class CallBack(models.Model):
    """A call-back (回访) to a named informant of a closed lead, drawn in the monthly sample."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待回访")
        DONE = "done", _("已回访")
        UNREACHABLE = "unreachable", _("无法联系")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY = "basically", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="callbacks", verbose_name=_("线索"))
    tip = models.ForeignKey("reports.Tip", models.PROTECT, related_name="+", verbose_name=_("举报"))
    month = models.DateField(_("抽样月份"), help_text=_("当月1日"))
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING, db_default="pending"
    )
    outcome = models.CharField(_("回访结果"), max_length=12, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("回访记录"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    recorded_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    review = models.ForeignKey(
        LeadReview, models.SET_NULL, null=True, blank=True, related_name="callbacks", verbose_name=_("评查")
    )

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        constraints = [
            models.UniqueConstraint(fields=["lead", "month"], name="callback_lead_month"),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(outcome=""), name="callback_done_has_outcome"
            ),
        ]
        indexes = [
            models.Index(fields=["month", "status"], name="callback_month_status"),
            models.Index(fields=["recorded_at"], condition=models.Q(status="done"), name="callback_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.month:%Y-%m}"


class SweepMark(models.Model):
    """How far a practice sweep has read an append-only table (the last tip checked for repeats)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("巡检进度")
        verbose_name_plural = _("巡检进度")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


def _bulletin_path(instance: "Bulletin", filename: str) -> str:
    return f"bulletins/{instance.period_start:%Y}/{instance.period_start:%Y%m%d}-{instance.pk or 'new'}.xlsx"


class Bulletin(models.Model):
    """A weekly bulletin (周通报) drawn up from the lead figures, for the office to review and issue.

    Kept here with the figures it freezes; accountability.bulletin writes and renders it (this app's
    migrations are where its table can live without touching the accountability app's)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待审核")
        ISSUED = "issued", _("已印发")

    period_start = models.DateField(_("统计起始日"))
    period_end = models.DateField(_("统计截止日"))
    title = models.CharField(_("标题"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_default="draft"
    )
    # Figures as generated: {"units": [...], "regions": [...], "totals": {...}, "as_of": iso}.
    data = models.JSONField(_("统计数据"), default=dict)
    # The office's wording of the assessment and requirements (问题和要求), edited before issue.
    remarks = models.TextField(_("通报意见"), blank=True)
    workbook = models.FileField(_("Excel 工作簿"), upload_to=_bulletin_path, max_length=200, blank=True)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    doc_number = models.CharField(_("发文字号"), max_length=60, blank=True)
    doc_date = models.DateField(_("成文日期"), null=True, blank=True)
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("周通报")
        verbose_name_plural = _("周通报")
        constraints = [models.UniqueConstraint(fields=["period_start"], name="bulletin_one_per_week")]

    def __str__(self) -> str:
        return self.title
