"""Linking (串并): the entity index, imported cases, links and dismissals, key monitoring."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit


class EntityKind(models.TextChoices):
    """What an entity is; the values are leads.linking.Kind's, plus places (flagged, never extracted)."""

    PHONE = "phone", _("电话")
    ID_NUMBER = "id_number", _("身份证号")
    USCC = "uscc", _("统一社会信用代码")
    PLATE = "plate", _("车牌")
    BANK_CARD = "bank_card", _("银行卡号")
    COMPANY = "company", _("公司")
    PERSON = "person", _("人员")
    ALIAS = "alias", _("绰号")
    PLACE = "place", _("地点")


class ItemKind(models.TextChoices):
    """The things that get linked."""

    TIP = "tip", _("举报")
    LEAD = "lead", _("线索")
    CASE = "case", _("案件")


class CaseKind(models.TextChoices):
    CRIMINAL = "criminal", _("刑事案件")
    SECURITY = "security", _("治安案件")
    PETITION = "petition", _("信访件")


class Entity(models.Model):
    """One normalised phone, ID number, company, person … seen somewhere; `mention_count` items mention it."""

    kind = models.CharField(_("类型"), max_length=12, choices=EntityKind.choices)
    value = models.CharField(_("值"), max_length=200)
    # Looser comparison key: a company's name without region and legal form (company_key); else the value.
    key = models.CharField(_("比对键"), max_length=200)
    mention_count = models.PositiveIntegerField(_("出现次数"), default=0)
    first_seen_at = models.DateTimeField(_("首次出现"), default=timezone.now)

    class Meta:
        verbose_name = _("实体")
        verbose_name_plural = _("实体")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="linking_entity_kind_value")]
        indexes = [
            models.Index(fields=["kind", "key"], name="linking_entity_key"),
            models.Index(
                fields=["-mention_count", "id"],
                condition=Q(mention_count__gte=2),
                name="linking_entity_repeat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class CaseImport(models.Model):
    """One uploaded case list: its column mapping, validation report and import progress."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("待设置列对应")
        VALIDATING = "validating", _("校验中")
        INVALID = "invalid", _("校验未通过")
        VALID = "valid", _("校验通过，待导入")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("导入完成")
        FAILED = "failed", _("导入失败")

    file = models.FileField(_("文件"), upload_to="case-imports/%Y/%m/", max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(_("格式"), max_length=8)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    default_kind = models.CharField(_("案件类别"), max_length=12, choices=CaseKind.choices)
    headers = models.JSONField(_("表头"), default=list, blank=True)
    mapping = models.JSONField(_("列对应"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    # [[row, column, problem], …] — the first IMPORT_MAX_PROBLEMS; problem_count counts them all.
    problems = models.JSONField(_("问题清单"), default=list, blank=True)
    problem_count = models.PositiveIntegerField(_("问题数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("案件导入")
        verbose_name_plural = _("案件导入")

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (self.Status.DONE, self.Status.VALID, self.Status.INVALID) else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.VALIDATING, self.Status.IMPORTING)


class ImportedCase(models.Model):
    """An existing criminal, public-security or petition case imported from another system's list."""

    kind = models.CharField(_("案件类别"), max_length=12, choices=CaseKind.choices)
    case_number = models.CharField(_("案件编号"), max_length=60)
    title = models.CharField(_("案件名称"), max_length=200)
    description = models.TextField(_("简要案情"), blank=True)
    accused = models.TextField(_("涉案人员/单位"), blank=True)
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("发生地区")
    )
    sector = models.ForeignKey(
        Sector, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("行业领域")
    )
    occurred_at = models.DateField(_("发案时间"), null=True, blank=True)
    source_file = models.CharField(_("来源文件"), max_length=200, blank=True)
    source_row = models.PositiveIntegerField(_("来源行号"), null=True, blank=True)
    row_hash = models.CharField(max_length=64)
    batch = models.ForeignKey(
        CaseImport, models.SET_NULL, null=True, blank=True, related_name="cases", verbose_name=_("导入批次")
    )
    created_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("已有案件")
        verbose_name_plural = _("已有案件")
        constraints = [
            models.UniqueConstraint(fields=["kind", "case_number"], name="linking_case_kind_number"),
        ]
        indexes = [
            models.Index(fields=["region", "sector", "-occurred_at"], name="linking_case_region_sector"),
            models.Index(fields=["-created_at", "-id"], name="linking_case_recent"),
            GinIndex(OpClass("description", name="gin_trgm_ops"), name="linking_case_description_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.case_number} {self.title}"


class EntityMention(models.Model):
    """Where an entity was seen: one tip, lead or imported case (one row per entity and item)."""

    entity = models.ForeignKey(Entity, models.CASCADE, related_name="mentions", db_index=False)
    tip = models.ForeignKey(
        "reports.Tip", models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    lead = models.ForeignKey(
        "leads.Lead", models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    case = models.ForeignKey(
        ImportedCase, models.CASCADE, null=True, blank=True, related_name="mentions", db_index=False
    )
    field = models.CharField(_("字段"), max_length=20)
    raw = models.CharField(_("原文"), max_length=200)
    # Copied from the item so repeat targets count regions and sectors without joining three tables.
    region = models.ForeignKey(
        Region, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    sector = models.ForeignKey(
        Sector, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("实体出现记录")
        verbose_name_plural = _("实体出现记录")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(tip__isnull=False, lead__isnull=True, case__isnull=True)
                    | Q(tip__isnull=True, lead__isnull=False, case__isnull=True)
                    | Q(tip__isnull=True, lead__isnull=True, case__isnull=False)
                ),
                name="linking_mention_one_item",
            ),
            models.UniqueConstraint(
                fields=["tip", "entity"], condition=Q(tip__isnull=False), name="linking_mention_tip_entity"
            ),
            models.UniqueConstraint(
                fields=["lead", "entity"], condition=Q(lead__isnull=False), name="linking_mention_lead_entity"
            ),
            models.UniqueConstraint(
                fields=["case", "entity"], condition=Q(case__isnull=False), name="linking_mention_case_entity"
            ),
        ]
        indexes = [
            # "Who else mentions this entity", newest first, bounded per entity.
            models.Index(fields=["entity", "-id"], name="linking_mention_entity"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} @ {self.tip_id or self.lead_id or self.case_id}"


class IndexState(models.Model):
    """An item whose entities are in the index; tips and leads without one are picked up by the sweep."""

    kind = models.CharField(max_length=8, choices=ItemKind.choices)
    item_id = models.BigIntegerField()
    indexed_at = models.DateTimeField(default=timezone.now)
    entity_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("实体索引状态")
        verbose_name_plural = _("实体索引状态")
        constraints = [models.UniqueConstraint(fields=["kind", "item_id"], name="linking_indexstate_item")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.item_id}"


class PairMixin(models.Model):
    """Two items, stored in a fixed order (a ≤ b) so a pair is one row whichever page it came from."""

    a_kind = models.CharField(max_length=8, choices=ItemKind.choices)
    a_id = models.BigIntegerField()
    b_kind = models.CharField(max_length=8, choices=ItemKind.choices)
    b_id = models.BigIntegerField()

    class Meta:
        abstract = True


class Link(PairMixin):
    """The office joined two items (串并); `lead` is the lead both tips ended up under, when there is one."""

    class Outcome(models.TextChoices):
        REGISTERED = "registered", _("登记为同一线索")
        MERGED = "merged", _("并入同一线索")
        SAME_LEAD = "same_lead", _("已在同一线索")
        RECORDED = "recorded", _("记录串并关系")

    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    lead = models.ForeignKey(
        "leads.Lead", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("线索")
    )
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("串并记录")
        verbose_name_plural = _("串并记录")
        constraints = [
            models.UniqueConstraint(fields=["a_kind", "a_id", "b_kind", "b_id"], name="linking_link_pair"),
        ]
        indexes = [
            models.Index(fields=["a_kind", "a_id"], name="linking_link_a"),
            models.Index(fields=["b_kind", "b_id"], name="linking_link_b"),
        ]

    def __str__(self) -> str:
        return f"{self.a_kind}:{self.a_id} ↔ {self.b_kind}:{self.b_id}"


class Dismissal(PairMixin):
    """The office decided two items are not related; the suggestion is not shown again."""

    reason = models.CharField(_("理由"), max_length=200, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-dismissed_at", "-id"]
        verbose_name = _("排除的关联建议")
        verbose_name_plural = _("排除的关联建议")
        constraints = [
            models.UniqueConstraint(
                fields=["a_kind", "a_id", "b_kind", "b_id"], name="linking_dismissal_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["a_kind", "a_id"], name="linking_dismissal_a"),
            models.Index(fields=["b_kind", "b_id"], name="linking_dismissal_b"),
        ]

    def __str__(self) -> str:
        return f"{self.a_kind}:{self.a_id} ≠ {self.b_kind}:{self.b_id}"


class WatchFlag(models.Model):
    """Key monitoring (重点监控): a person, company, phone or place a unit watches until `ends_on`."""

    kind = models.CharField(_("对象类型"), max_length=12, choices=EntityKind.choices)
    value = models.CharField(_("比对值"), max_length=200)
    label = models.CharField(_("监控对象"), max_length=200)
    reason = models.TextField(_("监控理由"))
    ends_on = models.DateField(_("监控截止日期"))
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="+", verbose_name=_("标注单位"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("标注人")
    )
    created_at = models.DateTimeField(_("标注时间"), default=timezone.now)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("重点监控对象")
        verbose_name_plural = _("重点监控对象")
        indexes = [
            models.Index(
                fields=["ends_on"], condition=Q(lifted_at__isnull=True), name="linking_watch_active"
            ),
            models.Index(fields=["unit", "-created_at"], name="linking_watch_unit"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="linking_watch_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}"

    def is_active(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.lifted_at is None and self.ends_on >= today


class WatchHit(models.Model):
    """A tip, lead or case that mentioned a watched entity; the flagging unit was alerted once for it."""

    flag = models.ForeignKey(WatchFlag, models.CASCADE, related_name="hits", verbose_name=_("监控对象"))
    item_kind = models.CharField(_("类型"), max_length=8, choices=ItemKind.choices)
    item_id = models.BigIntegerField()
    item_label = models.CharField(_("编号"), max_length=60)
    matched = models.CharField(_("命中原文"), max_length=200)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("重点监控命中")
        verbose_name_plural = _("重点监控命中")
        constraints = [
            models.UniqueConstraint(fields=["flag", "item_kind", "item_id"], name="linking_watchhit_once"),
        ]
        indexes = [models.Index(fields=["item_kind", "item_id"], name="linking_watchhit_item")]

    def __str__(self) -> str:
        return f"{self.flag_id} → {self.item_kind}:{self.item_id}"
