"""Zones: what the public node holds (sealed submissions, receipts, what the office published) and what
the internal side keeps to make the transfer exactly-once (key pairs, imported ids, delivered items).

Both zones run the same migrations; each uses only its half of these tables.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.models import PublicStatus


# --- public node ---------------------------------------------------------------------------------
class SealingKey(models.Model):
    """A public key of the internal zone that the public node seals new submissions to."""

    key_id = models.CharField(_("密钥编号"), max_length=32, unique=True)
    public_key = models.CharField(_("公钥"), max_length=64)
    is_current = models.BooleanField(_("当前使用"), default=False)
    received_at = models.DateTimeField(_("收到时间"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="sealingkey_one_current"
            )
        ]
        verbose_name = _("内网区公钥")
        verbose_name_plural = _("内网区公钥")

    def __str__(self) -> str:
        return self.key_id


class Receipt(models.Model):
    """What the public node keeps of one tip for follow-up: code, PIN hash and the published status."""

    tracking_code = models.CharField(_("查询码"), max_length=20, unique=True)
    pin_hash = models.CharField(_("查询密码摘要"), max_length=128)
    public_status = models.CharField(
        _("公开进度"), max_length=20, choices=PublicStatus.choices, default=PublicStatus.RECEIVED
    )
    public_conclusion = models.TextField(_("公开办理结果"), blank=True)
    reward_status = models.CharField(_("奖励状态"), max_length=20, blank=True)
    # Version of the tip on the internal side when this state was published: older pushes never win.
    status_version = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(_("收到时间"))
    collected_at = models.DateTimeField(_("内网已接收时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("举报回执")
        verbose_name_plural = _("举报回执")

    def __str__(self) -> str:
        return self.tracking_code


class SealedSubmission(models.Model):
    """A tip or an informant's reply, sealed to the internal zone's key, held until collected."""

    class Kind(models.TextChoices):
        TIP = "tip", _("举报")
        REPLY = "reply", _("举报人回复")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    receipt = models.ForeignKey(Receipt, models.CASCADE, related_name="sealed", verbose_name=_("回执"))
    key_id = models.CharField(_("密钥编号"), max_length=32)
    sealed = models.BinaryField(_("密文"))
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="sealed_pending_order")]
        verbose_name = _("待接收密文")
        verbose_name_plural = _("待接收密文")

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class PublishedEntry(models.Model):
    """One line of a receipt's public thread: a status step, an office message, or a note that the
    informant replied (the reply itself travels sealed and is not kept here)."""

    class Kind(models.TextChoices):
        EVENT = "event", _("进度")
        OFFICE_MESSAGE = "office_message", _("办公室留言")
        REPLY = "reply", _("举报人回复")

    receipt = models.ForeignKey(Receipt, models.CASCADE, related_name="entries", verbose_name=_("回执"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    source_id = models.CharField(_("来源编号"), max_length=64)
    at = models.DateTimeField(_("时间"))
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "kind", "source_id"], name="publishedentry_once")
        ]
        verbose_name = _("公开进度与留言")
        verbose_name_plural = _("公开进度与留言")

    def __str__(self) -> str:
        return f"{self.receipt_id} {self.kind} {self.source_id}"

    # The names the reports templates use for timeline events and thread messages.
    @property
    def public_text(self) -> str:
        return self.text

    @property
    def direction(self) -> str:
        return "to_informant" if self.kind == self.Kind.OFFICE_MESSAGE else "from_informant"

    @property
    def created_at(self):
        return self.at

    @property
    def body(self) -> str:
        if self.kind == self.Kind.REPLY:
            return str(_("（您的留言已加密转交办理单位，公开服务器不保存留言内容。）"))
        return self.text

    attachments = ()
    author = None


class TransferNonce(models.Model):
    """A request nonce or bundle id seen once; seeing it again is a replay."""

    nonce = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("已用请求编号")
        verbose_name_plural = _("已用请求编号")

    def __str__(self) -> str:
        return self.nonce


# --- both sides ----------------------------------------------------------------------------------
class TransferLog(models.Model):
    """One exchange between the zones, or one refused request/answer/bundle (for monitoring and audit)."""

    class Action(models.TextChoices):
        PULL = "pull", _("收取")
        ACK = "ack", _("确认")
        PUSH = "push", _("发布")
        SYNC = "sync", _("同步")
        EXPORT = "export", _("导出交换包")
        IMPORT = "import", _("导入交换包")
        REFUSED = "refused", _("拒绝")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    zone = models.CharField(_("所在区"), max_length=10)
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    ok = models.BooleanField(_("成功"), default=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "-at"], name="transferlog_action_at")]
        verbose_name = _("数据交换记录")
        verbose_name_plural = _("数据交换记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {'ok' if self.ok else 'refused'}"


# --- internal side -------------------------------------------------------------------------------
class ZoneKeyPair(models.Model):
    """An X25519 key pair of the internal zone; the private half is encrypted with the identity key."""

    key_id = models.CharField(_("密钥编号"), max_length=32, unique=True)
    public_key = models.CharField(_("公钥"), max_length=64)
    private_key_encrypted = models.TextField(_("私钥（加密）"))
    is_current = models.BooleanField(_("当前使用"), default=False)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="zonekeypair_one_current"
            )
        ]
        verbose_name = _("内网区密钥")
        verbose_name_plural = _("内网区密钥")

    def __str__(self) -> str:
        return self.key_id


class ImportedSubmission(models.Model):
    """A sealed submission already imported: its id makes every later delivery of it a no-op."""

    submission_id = models.UUIDField(_("密文编号"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=SealedSubmission.Kind.choices)
    tip = models.ForeignKey("reports.Tip", models.PROTECT, related_name="+", verbose_name=_("举报"))
    message = models.ForeignKey(
        "reports.TipMessage", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("留言")
    )
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("已导入密文")
        verbose_name_plural = _("已导入密文")

    def __str__(self) -> str:
        return str(self.submission_id)


class DeliveredItem(models.Model):
    """An internal record the public node has confirmed receiving (a receipt, status step or message)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("回执")
        EVENT = "event", _("进度")
        MESSAGE = "message", _("办公室留言")
        STATE = "state", _("状态版本")
        REFERENCE = "reference", _("公开参考数据")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    source_id = models.BigIntegerField(_("来源编号"))
    # For STATE: the tip version delivered; a newer version is delivered again.
    version = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(_("送达时间"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "source_id"], name="delivereditem_once")]
        verbose_name = _("已发布记录")
        verbose_name_plural = _("已发布记录")

    def __str__(self) -> str:
        return f"{self.kind} {self.source_id}"
