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

    # Unique through Meta.constraints: a plain unique index, without the varchar_pattern_ops twin that
    # `unique=True` adds (no query searches codes by prefix; one index fewer per insert).
    tracking_code = models.CharField(_("查询码"), max_length=20)
    pin_hash = models.CharField(_("查询密码摘要"), max_length=128)
    channel = models.CharField(_("举报渠道"), max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("研判状态"), max_length=20, choices=TipStatus.choices, default=TipStatus.NEW)
    public_status = models.CharField(
        _("公开进度"), max_length=20, choices=PublicStatus.choices, default=PublicStatus.RECEIVED
    )
    public_conclusion = models.TextField(_("公开办理结果"), blank=True)
    description = models.TextField(_("举报内容"))
    accused = models.TextField(_("被举报人/单位"), blank=True)
    # Foreign keys without an index of their own are covered by a composite index or by a partial one below
    # (most rows leave them empty): every index costs each of a million inserts.
    sector = models.ForeignKey(
        Sector,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="tips",
        verbose_name=_("行业领域"),
        db_index=False,  # tip_sector_region_received leads with it
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
    # Indexed by tip_received_desc (received_at, id), which also serves ascending scans.
    received_at = models.DateTimeField(_("收到时间"))
    original_reference = models.CharField(_("原始文号/来件编号"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
        db_index=False,  # tip_created_by: staff-entered tips only
    )
    unit = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="tips",
        verbose_name=_("承办单位"),
        db_index=False,  # tip_unit_received leads with it
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
        db_index=False,  # tip_triaged_by: triaged tips only
    )
    triage_note = models.TextField(_("研判意见"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("重复于"),
        db_index=False,  # tip_duplicate_of: duplicates only
    )
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Informant replies the office has not read yet (the register shows an envelope for these).
    unread_replies = models.PositiveSmallIntegerField(_("未读回复"), default=0)
    # Behind a restricted lead (限制知悉范围, issue 11): only the lead's circle sees the tip. Set through
    # services.tip_set_restricted by the leads app; selectors.tip_list_visible_to reads it.
    restricted = models.BooleanField(_("限制知悉范围"), default=False, db_default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("举报")
        verbose_name_plural = _("举报")
        permissions = [("reveal_identity", _("可查看举报人身份信息"))]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="tip_received_desc"),
            models.Index(fields=["channel", "-received_at"], name="tip_channel_received"),
            models.Index(fields=["status", "-received_at"], name="tip_status_received"),
            # Sector + region, newest first, status as a trailing key the scan can test without the heap:
            # serves the register's filters and the "most recent tips of this sector and region" candidate
            # scans of linking and routing (which read only the rows they return).
            models.Index(
                fields=["sector", "region", "-received_at", "status"], name="tip_sector_region_received"
            ),
            models.Index(fields=["unit", "-received_at"], name="tip_unit_received"),
            models.Index(fields=["id"], condition=models.Q(routed_at__isnull=True), name="tip_unrouted"),
            GinIndex(OpClass("description", name="gin_trgm_ops"), name="tip_description_trgm"),
            GinIndex(OpClass("accused", name="gin_trgm_ops"), name="tip_accused_trgm"),
            models.Index(fields=["id"], condition=models.Q(unread_replies__gt=0), name="tip_unread_replies"),
            models.Index(fields=["id"], condition=models.Q(restricted=True), name="tip_restricted"),
            models.Index(
                fields=["created_by"], condition=models.Q(created_by__isnull=False), name="tip_created_by"
            ),
            models.Index(
                fields=["triaged_by"], condition=models.Q(triaged_by__isnull=False), name="tip_triaged_by"
            ),
            models.Index(
                fields=["duplicate_of"],
                condition=models.Q(duplicate_of__isnull=False),
                name="tip_duplicate_of",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["tracking_code"], name="tip_tracking_code_unique")]

    def __str__(self) -> str:
        return self.tracking_code


class TipEvent(models.Model):
    """One entry in a tip's history; `public` entries make the informant's timeline (plain words only)."""

    # tipevent_tip_at leads with the tip; the actor is indexed where there is one (tipevent_actor).
    tip = models.ForeignKey(
        Tip, models.CASCADE, related_name="events", verbose_name=_("举报"), db_index=False
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
        db_index=False,
    )
    kind = models.CharField(_("事项"), max_length=40)
    public = models.BooleanField(_("对举报人公开"), default=False)
    public_text = models.CharField(_("公开说明"), max_length=300, blank=True)
    note = models.TextField(_("内部备注"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["tip", "at"], name="tipevent_tip_at"),
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="tipevent_actor"),
        ]
        verbose_name = _("举报处理记录")
        verbose_name_plural = _("举报处理记录")

    def __str__(self) -> str:
        return f"{self.tip_id} {self.kind}"


def _attachment_path(instance, filename: str) -> str:
    """A random name under a dated folder: nothing of the original name reaches the disk."""
    import secrets

    from django.utils import timezone

    now = timezone.now()
    return f"tips/{now:%Y/%m}/{secrets.token_hex(16)}"


class TipMessage(models.Model):
    """One message between the office and the informant, shown on both sides of the thread."""

    class Direction(models.TextChoices):
        TO_INFORMANT = "to_informant", _("办公室留言")
        FROM_INFORMANT = "from_informant", _("举报人回复")

    tip = models.ForeignKey(Tip, models.CASCADE, related_name="messages", verbose_name=_("举报"))
    direction = models.CharField(_("方向"), max_length=20, choices=Direction.choices)
    body = models.TextField(_("内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("留言人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tip", "created_at"], name="tipmessage_tip_at")]
        verbose_name = _("举报留言")
        verbose_name_plural = _("举报留言")

    def __str__(self) -> str:
        return f"{self.tip_id} {self.get_direction_display()}"


class TipAttachment(models.Model):
    """A file sent with a tip or a message; stored under a random name outside the web root."""

    class Source(models.TextChoices):
        INFORMANT = "informant", _("举报人上传")
        ORIGINAL = "original", _("原件扫描")
        OFFICE = "office", _("工作人员上传")

    tip = models.ForeignKey(Tip, models.CASCADE, related_name="attachments", verbose_name=_("举报"))
    message = models.ForeignKey(
        TipMessage,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("所属留言"),
    )
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.INFORMANT)
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tip", "created_at"], name="tipattachment_tip_at")]
        constraints = [models.CheckConstraint(condition=models.Q(size__gt=0), name="tipattachment_not_empty")]
        verbose_name = _("举报附件")
        verbose_name_plural = _("举报附件")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class IdentityReveal(models.Model):
    """One time a staff member looked at an informant's identity, with the reason given (append-only)."""

    tip = models.ForeignKey(Tip, models.PROTECT, related_name="identity_reveals", verbose_name=_("举报"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("查看人")
    )
    reason = models.TextField(_("查看事由"))
    at = models.DateTimeField(_("查看时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tip", "-at"], name="identityreveal_tip_at")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="identityreveal_has_reason")
        ]
        verbose_name = _("身份查看记录")
        verbose_name_plural = _("身份查看记录")

    def __str__(self) -> str:
        return f"{self.tip_id} {self.user_id} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise PermissionError("identity reveal records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("identity reveal records are append-only")


class Reward(models.Model):
    """A reward (举报奖励) for a tip whose lead was substantiated: proposed, decided, paid."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        PAID = "paid", _("已发放")

    class Basis(models.TextChoices):
        GENERAL = "general", _("一般线索（第五条第一款）")
        IMPORTANT = "important", _("重要线索（第五条第二款）")
        MAJOR = "major", _("重大线索（第五条第三款）")
        UMBRELLA = "umbrella", _("“保护伞”线索（第六条）")

    class LeadResult(models.TextChoices):
        SUBSTANTIATED = "substantiated", _("查实")
        PARTLY = "partly", _("部分属实")

    class PaymentMethod(models.TextChoices):
        BANK = "bank", _("银行转账")
        CASH = "cash", _("现金领取")
        PROXY = "proxy", _("委托代领")

    tip = models.ForeignKey(Tip, models.PROTECT, related_name="rewards", verbose_name=_("举报"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    amount = models.DecimalField(_("奖励金额（元）"), max_digits=12, decimal_places=2)
    basis = models.CharField(_("奖励依据"), max_length=20, choices=Basis.choices)
    basis_note = models.TextField(_("依据说明"), blank=True)
    lead_result = models.CharField(_("线索核查结论"), max_length=20, choices=LeadResult.choices)
    first_tip = models.ForeignKey(
        Tip,
        models.PROTECT,
        related_name="+",
        verbose_name=_("首报举报"),
        help_text=_("多人举报同一问题时，最先举报的那一件。"),
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)
    payment_method = models.CharField(_("发放方式"), max_length=20, choices=PaymentMethod.choices, blank=True)
    payment_reference = models.CharField(_("凭证号"), max_length=100, blank=True)
    paid_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["status", "-proposed_at"], name="reward_status_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="reward_amount_positive"),
            models.UniqueConstraint(
                fields=["tip"], condition=~models.Q(status="rejected"), name="reward_one_open_per_tip"
            ),
        ]
        verbose_name = _("举报奖励")
        verbose_name_plural = _("举报奖励")

    def __str__(self) -> str:
        return f"{self.tip} ¥{self.amount} {self.get_status_display()}"


class TypicalCase(models.Model):
    """An anonymised case summary the office publishes on the public site (典型案例)."""

    title = models.CharField(_("标题"), max_length=120)
    summary = models.TextField(_("案情摘要"))
    outcome = models.TextField(_("办理结果"), blank=True)
    sector = models.ForeignKey(
        Sector, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("行业领域")
    )
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("地区")
    )
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    is_published = models.BooleanField(_("已发布"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-published_on", "-id"]
        indexes = [
            models.Index(
                fields=["-published_on", "-id"], condition=models.Q(is_published=True), name="case_published"
            )
        ]
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")

    def __str__(self) -> str:
        return self.title


class TrigramIContains(models.lookups.Contains):
    """Case-insensitive substring match the pg_trgm GIN indexes serve (Django's icontains wraps the column in
    UPPER(), which no index serves). Text without cased letters (most Chinese) uses LIKE: same result,
    and a scan without case folding is more than twice as fast when the index cannot help (short words)."""

    lookup_name = "trgm_icontains"

    def get_rhs_op(self, connection, rhs):
        value = self.rhs if isinstance(self.rhs, str) else ""
        uncased = value and value.lower() == value.upper()
        return f"{'LIKE' if uncased else 'ILIKE'} {rhs}"


for _field in ("description", "accused"):
    Tip._meta.get_field(_field).register_lookup(TrigramIContains)
