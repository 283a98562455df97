"""Tips from every channel, their attachments, messages with the informant, public timeline and rewards."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit


class Channel(models.TextChoices):
    ONLINE = "online", _("网上举报")
    PHONE = "phone", _("电话举报")
    LETTER = "letter", _("来信举报")
    MAILBOX = "mailbox", _("举报信箱")
    VISIT = "visit", _("来访举报")
    HIGHER = "higher", _("上级转办")
    PLATFORM_12337 = "platform_12337", _("12337平台下发")
    PETITION = "petition", _("信访件")
    CRIMINAL_CASE = "criminal_case", _("刑事案件")
    SECURITY_CASE = "security_case", _("治安案件")


class TipStatus(models.TextChoices):
    """Where the tip stands in the office's triage (研判)."""

    NEW = "new", _("待研判")
    REGISTERED = "registered", _("已登记为线索")
    MERGED = "merged", _("已并入线索")
    DUPLICATE = "duplicate", _("重复举报")
    REJECTED = "rejected", _("不予受理")


class PublicStatus(models.TextChoices):
    """What the informant sees on the follow-up page, in plain words."""

    RECEIVED = "received", _("已收到")
    ACCEPTED = "accepted", _("已受理")
    VERIFYING = "verifying", _("核查中")
    CONCLUDED = "concluded", _("已办结")
    NOT_ACCEPTED = "not_accepted", _("不予受理")


class Tip(models.Model):
    """One report from the public, through any channel, with a tracking code for follow-up."""

    tracking_code = models.CharField(_("查询码"), max_length=20, unique=True)
    pin_hash = models.CharField(_("查询密码摘要"), max_length=128)
    channel = models.CharField(_("举报渠道"), max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("研判状态"), max_length=20, choices=TipStatus.choices, default=TipStatus.NEW)
    public_status = models.CharField(
        _("公开进度"), max_length=20, choices=PublicStatus.choices, default=PublicStatus.RECEIVED
    )
    public_conclusion = models.TextField(_("公开办理结果"), blank=True)
    description = models.TextField(_("举报内容"))
    accused = models.TextField(_("被举报人/单位"), blank=True)
    sector = models.ForeignKey(
        Sector, models.PROTECT, null=True, blank=True, related_name="tips", verbose_name=_("行业领域")
    )
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="tips", verbose_name=_("发生地区")
    )
    location = models.CharField(_("具体地点"), max_length=200, blank=True)
    occurred_at = models.DateField(_("发生时间"), null=True, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=True)
    # Informant identity: one Fernet token holding name, phone, ID number, address and contact (JSON),
    # plus masked forms for display. Never stored in plain text.
    identity_encrypted = models.TextField(_("举报人信息（加密）"), blank=True)
    identity_masked = models.JSONField(_("举报人信息（脱敏）"), default=dict, blank=True)
    identity_purged_at = models.DateTimeField(_("身份信息清除时间"), null=True, blank=True)
    sms_consent = models.BooleanField(_("同意短信告知"), default=False)
    received_at = models.DateTimeField(_("收到时间"), db_index=True)
    original_reference = models.CharField(_("原始文号/来件编号"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="tips", verbose_name=_("承办单位")
    )
    # Routing (done by a worker after commit; `routed_at` empty means the catch-up sweep must do it).
    routed_at = models.DateTimeField(_("分析时间"), null=True, blank=True)
    routing_proposal = models.JSONField(_("分办建议"), default=dict, blank=True)
    # Triage decision
    triaged_at = models.DateTimeField(_("研判时间"), null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("研判人"),
    )
    triage_note = models.TextField(_("研判意见"), blank=True)
    duplicate_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="duplicates", verbose_name=_("重复于")
    )
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("举报")
        verbose_name_plural = _("举报")
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="tip_received_desc"),
            models.Index(fields=["channel", "-received_at"], name="tip_channel_received"),
            models.Index(fields=["status", "-received_at"], name="tip_status_received"),
            models.Index(
                fields=["sector", "region", "status", "-received_at"], name="tip_sector_region_status"
            ),
            models.Index(fields=["unit", "-received_at"], name="tip_unit_received"),
            models.Index(fields=["id"], condition=models.Q(routed_at__isnull=True), name="tip_unrouted"),
            GinIndex(OpClass("description", name="gin_trgm_ops"), name="tip_description_trgm"),
            GinIndex(OpClass("accused", name="gin_trgm_ops"), name="tip_accused_trgm"),
        ]

    def __str__(self) -> str:
        return self.tracking_code


class TipEvent(models.Model):
    """One entry in a tip's history; `public` entries make the informant's timeline (plain words only)."""

    tip = models.ForeignKey(Tip, models.CASCADE, related_name="events", verbose_name=_("举报"))
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    kind = models.CharField(_("事项"), max_length=40)
    public = models.BooleanField(_("对举报人公开"), default=False)
    public_text = models.CharField(_("公开说明"), max_length=300, blank=True)
    note = models.TextField(_("内部备注"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tip", "at"], name="tipevent_tip_at")]
        verbose_name = _("举报处理记录")
        verbose_name_plural = _("举报处理记录")

    def __str__(self) -> str:
        return f"{self.tip_id} {self.kind}"
