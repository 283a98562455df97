"""Accountability: actions (通报, 约谈, 督办 …) with rectification, unit tasks, assessments per unit and period.

Campaign phases live in `campaign`; the unit tasks of a phase (任务清单) live here because campaign's
models were frozen for migrations when they were built, and tasks count in assessments anyway.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.models import Phase, Unit


class ActionKind(models.TextChoices):
    NOTICE = "notice", _("通报")
    TALK = "talk", _("约谈")
    SUPERVISION = "supervision", _("督办")
    LISTED_SUPERVISION = "listed_supervision", _("挂牌督办")
    RECTIFICATION = "rectification", _("限期整改")
    VETO = "veto", _("一票否决")
    REFERRAL = "referral", _("移送纪委监委/问责")


# Kinds whose document orders the unit to put things right item by item (and so may carry items).
RECTIFYING_KINDS = frozenset(
    {ActionKind.TALK, ActionKind.SUPERVISION, ActionKind.LISTED_SUPERVISION, ActionKind.RECTIFICATION}
)
# Kinds that cannot be issued without at least one rectification item.
ITEMS_REQUIRED_KINDS = frozenset({ActionKind.LISTED_SUPERVISION, ActionKind.RECTIFICATION})


class ActionStatus(models.TextChoices):
    DRAFT = "draft", _("待确认")
    ISSUED = "issued", _("已印发")
    RECTIFYING = "rectifying", _("整改中")
    OVERDUE = "overdue", _("整改逾期")
    RECTIFIED = "rectified", _("已整改")
    CLOSED = "closed", _("已销号")
    DISMISSED = "dismissed", _("不予采纳")


OPEN_ACTION_STATUSES = (ActionStatus.ISSUED, ActionStatus.RECTIFYING, ActionStatus.OVERDUE)


class ActionSource(models.TextChoices):
    ESCALATION = "escalation", _("超期督办升级")
    BLIND_SPOT = "blind_spot", _("盲区分析")
    RECTIFICATION_OVERDUE = "rectification_overdue", _("整改逾期")
    MANUAL = "manual", _("人工发起")


class DocumentNumberCounter(models.Model):
    """The last sequence number of a document series (机关代字) in a year; bumped in one UPSERT."""

    series = models.CharField(_("机关代字"), max_length=30)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("发文字号计数器")
        verbose_name_plural = _("发文字号计数器")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="doc_counter_series_year")]

    def __str__(self) -> str:
        return f"{self.series}〔{self.year}〕{self.last}"


class Action(models.Model):
    """An accountability action (问责措施) against one or more units: a draft proposal until the office issues it."""

    kind = models.CharField(_("类型"), max_length=24, choices=ActionKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.DRAFT
    )
    source = models.CharField(
        _("来源"), max_length=24, choices=ActionSource.choices, default=ActionSource.MANUAL
    )
    # Proposals from outside the sweep (blind spots) pass a key so a second click proposes nothing new.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    parent = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="followups", verbose_name=_("关联措施")
    )
    title = models.CharField(_("标题"), max_length=200)
    addressees = models.CharField(_("主送"), max_length=300, blank=True, help_text=_("留空按对象单位生成。"))
    reasons = models.TextField(_("问责事由"))
    body = models.TextField(
        _("正文"), blank=True, help_text=_("段落之间空一行；“一、”“（一）”开头的段落按标题排版。")
    )
    units = models.ManyToManyField(Unit, related_name="accountability_actions", verbose_name=_("对象单位"))
    leads = models.ManyToManyField(
        "leads.Lead", blank=True, related_name="accountability_actions", verbose_name=_("关联线索")
    )
    assignments = models.ManyToManyField(
        "leads.Assignment", blank=True, related_name="accountability_actions", verbose_name=_("关联分办任务")
    )
    issuer = models.CharField(_("发文机关"), max_length=100, blank=True)
    cc = models.CharField(_("抄送"), max_length=300, blank=True)
    talk_at = models.DateTimeField(_("约谈时间"), null=True, blank=True)
    talk_place = models.CharField(_("约谈地点"), max_length=120, blank=True)
    talk_record = models.TextField(_("约谈记录"), blank=True)
    doc_series = models.CharField(_("机关代字"), max_length=30, blank=True)
    doc_year = models.PositiveSmallIntegerField(_("发文年度"), null=True, blank=True)
    doc_seq = models.PositiveIntegerField(_("发文序号"), null=True, blank=True)
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
    rectify_deadline = models.DateTimeField(_("整改期限"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    dismissed_reason = models.TextField(_("不予采纳理由"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("问责措施")
        verbose_name_plural = _("问责措施")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="action_status_created"),
            models.Index(fields=["kind", "status"], name="action_kind_status"),
            models.Index(
                fields=["rectify_deadline"],
                condition=models.Q(status__in=["issued", "rectifying"]),
                name="action_open_deadline",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_number"], condition=~models.Q(doc_number=""), name="action_doc_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "dismissed"]) | ~models.Q(doc_number=""),
                name="action_issued_has_number",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="dismissed") | ~models.Q(dismissed_reason=""),
                name="action_dismissed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.doc_number or f"{self.get_kind_display()}（{self.get_status_display()}）#{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == ActionStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES


class ActionPerson(models.Model):
    """A responsible person an action names (责任人), e.g. the unit head called to an admonishment talk."""

    action = models.ForeignKey(Action, models.CASCADE, related_name="persons", verbose_name=_("问责措施"))
    unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("单位")
    )
    name = models.CharField(_("姓名"), max_length=40)
    title = models.CharField(_("职务"), max_length=80, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("责任人")
        verbose_name_plural = _("责任人")

    def __str__(self) -> str:
        return f"{self.name} {self.title}".strip()


class EscalationLink(models.Model):
    """An overdue assignment that a proposal came from, at one escalation level; each pair proposes once."""

    action = models.ForeignKey(Action, models.CASCADE, related_name="escalations", verbose_name=_("问责措施"))
    assignment = models.ForeignKey(
        "leads.Assignment",
        models.CASCADE,
        related_name="accountability_escalations",
        verbose_name=_("分办任务"),
    )
    level = models.PositiveSmallIntegerField(_("督办等级"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("超期升级来源")
        verbose_name_plural = _("超期升级来源")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "level"], name="escalation_link_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}@{self.level} → {self.action_id}"


class ItemStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    REPORTED = "reported", _("待验收")
    REJECTED = "rejected", _("验收未通过")
    ACCEPTED = "accepted", _("已验收")


class RectificationItem(models.Model):
    """One thing a unit must put right (整改事项) by a deadline, accepted or rejected by the office."""

    action = models.ForeignKey(Action, models.CASCADE, related_name="items", verbose_name=_("问责措施"))
    seq = models.PositiveSmallIntegerField(_("序号"))
    description = models.TextField(_("整改要求"))
    deadline_days = models.PositiveSmallIntegerField(
        _("整改时限（工作日）"), null=True, blank=True, help_text=_("自印发之日起计算；或填写截止日期。")
    )
    deadline = models.DateTimeField(_("整改期限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    overdue_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)

    class Meta:
        ordering = ["action", "seq"]
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        constraints = [
            models.UniqueConstraint(fields=["action", "seq"], name="rect_item_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(deadline_days__isnull=False) | models.Q(deadline__isnull=False),
                name="rect_item_has_deadline",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=models.Q(status__in=["open", "rejected"], overdue_at__isnull=True),
                name="rect_item_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action_id}-{self.seq}"

    def is_overdue(self, now=None) -> bool:
        # A report waiting for review stops the clock: the office, not the unit, is late then.
        return (
            self.status in (ItemStatus.OPEN, ItemStatus.REJECTED)
            and self.deadline is not None
            and self.deadline < (now or timezone.now())
        )


class ReportDecision(models.TextChoices):
    PENDING = "pending", _("待验收")
    ACCEPTED = "accepted", _("验收通过")
    REJECTED = "rejected", _("验收不通过")


class RectificationReport(models.Model):
    """A unit's report on one rectification item (整改报告), with evidence; the office accepts or rejects it."""

    item = models.ForeignKey(
        RectificationItem, models.CASCADE, related_name="reports", verbose_name=_("整改事项")
    )
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="+", verbose_name=_("报告单位"))
    body = models.TextField(_("整改情况"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("报告人")
    )
    submitted_at = models.DateTimeField(_("报告时间"), default=timezone.now)
    decision = models.CharField(
        _("验收结论"), max_length=10, choices=ReportDecision.choices, default="pending"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("验收人"),
    )
    decided_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    decision_note = models.TextField(_("验收意见"), blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("整改报告")
        verbose_name_plural = _("整改报告")
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(decision="pending"), name="rect_report_one_pending"
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="rejected") | ~models.Q(decision_note=""),
                name="rect_report_rejected_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.get_decision_display()}"


def _file_path(instance, filename: str) -> str:
    # Stored names never reuse the uploader's file name (path tricks, identifying names).
    return f"accountability/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class StoredFile(models.Model):
    """Common fields of an uploaded file served only through a permission-checking view."""

    file = models.FileField(_("文件"), upload_to=_file_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class RectificationEvidence(StoredFile):
    """A file proving a rectification (photos, documents, penalty decisions)."""

    report = models.ForeignKey(
        RectificationReport, models.CASCADE, related_name="evidence", verbose_name=_("整改报告")
    )

    class Meta(StoredFile.Meta):
        verbose_name = _("整改佐证材料")
        verbose_name_plural = _("整改佐证材料")


class ActionEvent(models.Model):
    """One timeline entry of an action: who did what, when, the status before and after, and the note."""

    action = models.ForeignKey(Action, models.CASCADE, related_name="events", verbose_name=_("问责措施"))
    item = models.ForeignKey(
        RectificationItem,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("整改事项"),
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
    name = models.CharField(_("操作"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("问责措施办理记录")
        verbose_name_plural = _("问责措施办理记录")
        indexes = [models.Index(fields=["action", "at"], name="actionevent_action_at")]

    def __str__(self) -> str:
        return f"{self.action_id} {self.name}"


# --- unit tasks (任务清单) --------------------------------------------------------------------------
class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("待办理")
    IN_PROGRESS = "in_progress", _("推进中")
    SUBMITTED = "submitted", _("已报结待审")
    DONE = "done", _("已完成")


OPEN_TASK_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)


class UnitTask(models.Model):
    """A task of a campaign phase that the office assigns to a unit with a deadline (任务清单)."""

    phase = models.ForeignKey(
        Phase, models.PROTECT, null=True, blank=True, related_name="unit_tasks", verbose_name=_("工作阶段")
    )
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="unit_tasks", verbose_name=_("责任单位"))
    title = models.CharField(_("任务"), max_length=200)
    description = models.TextField(_("工作要求"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED
    )
    deadline = models.DateTimeField(_("完成时限"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("交办人")
    )
    assigned_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    submitted_at = models.DateTimeField(_("报结时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The overdue sweep records the highest level fired: 1 overdue (liaisons, head), 2 escalated (office leaders).
    escalation_level = models.PositiveSmallIntegerField(_("督办等级"), default=0)
    overdue_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("工作任务")
        verbose_name_plural = _("工作任务")
        indexes = [
            models.Index(fields=["unit", "status", "deadline"], name="unittask_unit_status"),
            models.Index(
                fields=["deadline"],
                condition=models.Q(status__in=["assigned", "in_progress"]),
                name="unittask_open_deadline",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="unittask_progress_max_100"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, now=None) -> bool:
        return self.status in OPEN_TASK_STATUSES and self.deadline < (now or timezone.now())


class UnitTaskReport(models.Model):
    """A unit's progress report on a task (进展报告), the last one marking it complete."""

    task = models.ForeignKey(UnitTask, models.CASCADE, related_name="reports", verbose_name=_("工作任务"))
    body = models.TextField(_("进展情况"))
    progress = models.PositiveSmallIntegerField(_("进度（%）"))
    is_final = models.BooleanField(_("申请报结"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("报告人")
    )
    submitted_at = models.DateTimeField(_("报告时间"), default=timezone.now)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("任务进展报告")
        verbose_name_plural = _("任务进展报告")

    def __str__(self) -> str:
        return f"{self.task_id} {self.progress}%"


class UnitTaskAttachment(StoredFile):
    """A file attached to a task progress report."""

    report = models.ForeignKey(
        UnitTaskReport, models.CASCADE, related_name="attachments", verbose_name=_("进展报告")
    )

    class Meta(StoredFile.Meta):
        verbose_name = _("任务附件")
        verbose_name_plural = _("任务附件")


class UnitTaskEvent(models.Model):
    """One timeline entry of a unit task."""

    task = models.ForeignKey(UnitTask, models.CASCADE, related_name="events", verbose_name=_("工作任务"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    name = models.CharField(_("操作"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("工作任务办理记录")
        verbose_name_plural = _("工作任务办理记录")
        indexes = [models.Index(fields=["task", "at"], name="unittaskevent_task_at")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.name}"


# --- assessments (考核) ---------------------------------------------------------------------------
class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class Assessment(models.Model):
    """A unit's assessment (考核) for a quarter or a year, computed from the data; the office may adjust it."""

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="assessments", verbose_name=_("单位"))
    period_kind = models.CharField(_("周期"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"), help_text=_("含当日。"))
    metrics = models.JSONField(_("指标"), default=dict)
    computed_score = models.DecimalField(_("计算得分"), max_digits=6, decimal_places=2)
    adjustment = models.DecimalField(_("调整分"), max_digits=6, decimal_places=2, default=0)
    adjustment_reason = models.TextField(_("调整理由"), blank=True)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("调整人"),
    )
    adjusted_at = models.DateTimeField(_("调整时间"), null=True, blank=True)
    score = models.DecimalField(_("最终得分"), max_digits=6, decimal_places=2)
    vetoed = models.BooleanField(_("一票否决"), default=False)
    veto_action = models.ForeignKey(
        Action, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("否决决定")
    )
    grade = models.CharField(_("等次"), max_length=10, choices=Grade.choices)
    rank = models.PositiveSmallIntegerField(_("排名"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        ordering = ["period_kind", "-period_start", "rank", "unit__sort_order"]
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "period_kind", "period_start"], name="assessment_unit_period"
            ),
            models.CheckConstraint(
                condition=models.Q(adjustment=0) | ~models.Q(adjustment_reason=""),
                name="assessment_adjustment_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(vetoed=False) | models.Q(grade="fail"), name="assessment_veto_fails"
            ),
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_start", "rank"], name="assessment_period_rank")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.period_kind == PeriodKind.YEAR:
            return _("%(y)s年度") % {"y": self.period_start.year}
        quarter = (self.period_start.month - 1) // 3 + 1
        return _("%(y)s年第%(q)s季度") % {"y": self.period_start.year, "q": quarter}


class AssessmentAdjustment(models.Model):
    """One adjustment the office made to an assessment, kept as history (the audit log has it too)."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="adjustments", verbose_name=_("考核结果")
    )
    old_adjustment = models.DecimalField(_("原调整分"), max_digits=6, decimal_places=2)
    new_adjustment = models.DecimalField(_("新调整分"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("调整理由"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("调整人")
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("考核调整记录")
        verbose_name_plural = _("考核调整记录")

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.old_adjustment}→{self.new_adjustment}"
