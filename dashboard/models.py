"""Rollups the dashboards read (maintained by the workers from reports and leads) and export jobs.

The rollup tables are derived data: `dashboard.rollups` rebuilds them from the source tables, fully or
for what changed since its last run, and `rollup_verify` proves they equal a direct count. Nothing else
writes them. Ids of leads and assignments are plain integers (no foreign key) so the rollups never
slow down or block writes in the apps they summarise.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit


def _ref(model, verbose_name):
    # Reference data is never deleted (PROTECT everywhere else), so no constraint is needed here; a
    # constraint would only make the full refresh slower.
    return models.ForeignKey(
        model,
        models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class TipDaily(models.Model):
    """Tips received per local day × channel × sector × region (rollup of reports.Tip)."""

    day = models.DateField(_("日期"))
    channel = models.CharField(_("举报渠道"), max_length=20)
    sector = _ref(Sector, _("行业领域"))
    region = _ref(Region, _("地区"))
    count = models.PositiveIntegerField(_("举报数"))

    class Meta:
        verbose_name = _("举报日统计")
        verbose_name_plural = _("举报日统计")
        constraints = [
            # The unique index doubles as the covering index for every dashboard read (index-only scans).
            models.UniqueConstraint(
                fields=["day", "channel", "sector", "region"],
                include=["count"],
                name="tipdaily_unique_cover",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            # A region or sector filter reads a twelfth of the rows, from these (index-only scans).
            models.Index(
                fields=["region", "day"], include=["channel", "sector", "count"], name="tipdaily_region_day"
            ),
            models.Index(
                fields=["sector", "day"], include=["channel", "region", "count"], name="tipdaily_sector_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.count}"


class TipDailyChannel(models.Model):
    """Tips per local day × channel: the small rollup that serves every chart without a sector or region filter."""

    day = models.DateField(_("日期"))
    channel = models.CharField(_("举报渠道"), max_length=20)
    count = models.PositiveIntegerField(_("举报数"))

    class Meta:
        verbose_name = _("举报渠道日统计")
        verbose_name_plural = _("举报渠道日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel"], include=["count"], name="tipdailychannel_unique_cover"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.count}"


class LeadFact(models.Model):
    """One narrow row per lead with what the dashboards count: dimensions, state, stage times."""

    lead_id = models.BigIntegerField(_("线索"), primary_key=True)
    created_day = models.DateField(_("登记日期"))
    created_at = models.DateTimeField(_("登记时间"))
    sector = _ref(Sector, _("行业领域"))
    region = _ref(Region, _("地区"))
    channel = models.CharField(_("首件举报渠道"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=20)
    result = models.CharField(_("核查结论"), max_length=20, blank=True)
    disposition = models.CharField(_("办结方式"), max_length=30, blank=True)
    # Found (查实): verified or closed with result substantiated or partly. Closed as unsubstantiated
    # or "cannot verify" is concluded but never found (DESIGN.md).
    is_found = models.BooleanField(_("查实"))
    is_concluded = models.BooleanField(_("已有核查结论"))
    restricted = models.BooleanField(_("限制知悉"), default=False)
    deadline = models.DateTimeField(_("最近期限"), null=True, blank=True)
    first_assigned_at = models.DateTimeField(_("首次分办"), null=True, blank=True)
    first_accepted_at = models.DateTimeField(_("首次签收"), null=True, blank=True)
    verified_at = models.DateTimeField(_("核查完毕"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结"), null=True, blank=True)
    # Days spent in each stage (empty until the stage is over), so medians sort plain floats.
    assign_days = models.FloatField(_("登记→分办（天）"), null=True, blank=True)
    accept_days = models.FloatField(_("分办→签收（天）"), null=True, blank=True)
    verify_days = models.FloatField(_("签收→核查结论（天）"), null=True, blank=True)
    close_days = models.FloatField(_("结论→办结（天）"), null=True, blank=True)

    class Meta:
        verbose_name = _("线索统计")
        verbose_name_plural = _("线索统计")
        indexes = [
            # Everything the period figures read, so they are index-only scans over one date range.
            models.Index(
                fields=["created_day"],
                include=[
                    "sector",
                    "region",
                    "channel",
                    "status",
                    "result",
                    "is_found",
                    "is_concluded",
                    "restricted",
                    "assign_days",
                    "accept_days",
                    "verify_days",
                    "close_days",
                ],
                name="leadfact_day_full",
            ),
            models.Index(
                fields=["deadline"], condition=~models.Q(status="closed"), name="leadfact_open_deadline"
            ),
        ]

    def __str__(self) -> str:
        return str(self.lead_id)


class AssignmentFact(models.Model):
    """One narrow row per assignment (one unit's share of a lead) for unit rankings and overdue lists."""

    assignment_id = models.BigIntegerField(_("分办任务"), primary_key=True)
    lead_id = models.BigIntegerField(_("线索"), db_index=True)
    unit = _ref(Unit, _("承办单位"))
    sector = _ref(Sector, _("行业领域"))
    region = _ref(Region, _("地区"))
    channel = models.CharField(_("首件举报渠道"), max_length=20, blank=True)
    restricted = models.BooleanField(_("限制知悉"), default=False)
    assigned_day = models.DateField(_("派单日期"))
    assigned_at = models.DateTimeField(_("派单时间"))
    deadline = models.DateTimeField(_("办理期限"))
    status = models.CharField(_("状态"), max_length=20)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    result = models.CharField(_("核查结论"), max_length=20, blank=True)
    returned_count = models.PositiveSmallIntegerField(_("退回重查次数"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("督办等级"), default=0)

    class Meta:
        verbose_name = _("分办统计")
        verbose_name_plural = _("分办统计")
        indexes = [
            models.Index(
                fields=["assigned_day"],
                include=[
                    "unit",
                    "status",
                    "result",
                    "restricted",
                    "region",
                    "sector",
                    "channel",
                    "assigned_at",
                    "deadline",
                    "submitted_at",
                    "returned_count",
                ],
                name="assignfact_day_full",
            ),
            models.Index(
                fields=["assigned_at"],
                include=["lead_id", "region", "sector", "channel", "restricted"],
                condition=models.Q(status="assigned"),
                name="assignfact_not_accepted",
            ),
            models.Index(
                fields=["deadline"],
                condition=models.Q(status__in=["assigned", "accepted"]),
                name="assignfact_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return str(self.assignment_id)


class RollupState(models.Model):
    """When the rollups were last refreshed, and the id watermarks the next incremental run starts from."""

    name = models.CharField(max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField(_("最近刷新"), null=True, blank=True)
    full_refreshed_at = models.DateTimeField(_("最近全量重建"), null=True, blank=True)
    # Recent runs as [{"at": iso, "marks": {"tip": id, ...}}]; the next run starts from the newest one
    # older than the overlap window, so late commits behind a watermark are read again.
    checkpoints = models.JSONField(default=list, blank=True)
    last_duration_ms = models.PositiveIntegerField(default=0)
    last_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("统计刷新状态")
        verbose_name_plural = _("统计刷新状态")

    def __str__(self) -> str:
        return self.name


class ExportJob(models.Model):
    """One export (register, dashboard view or report) made by a user: its progress, file and expiry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel")
        CSV = "csv", _("CSV")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("导出人")
    )
    kind = models.CharField(_("导出内容"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    fmt = models.CharField(_("格式"), max_length=5, choices=Format.choices, default=Format.XLSX)
    params = models.JSONField(_("条件"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    file = models.CharField(_("文件"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="exportjob_owner_recent"),
            models.Index(
                fields=["expires_at"], condition=models.Q(status="done"), name="exportjob_done_expiry"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="exportjob_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)
