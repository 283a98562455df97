"""Input and output serializers of the tip API, kept apart. Checks are the ones the forms use."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from campaign import reference
from campaign.models import Region, Sector

from .. import crypto, uploads, validators
from ..models import Channel, Tip, TipAttachment, TipEvent, TipMessage


class CodeField(serializers.CharField):
    """A reference-data code (sector, region) resolved to its row, with a readable error when unknown."""

    def __init__(self, model, label, **kwargs):
        self.model = model
        self.kind = label
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        if not code:
            return None
        obj = reference.by_code(self.model, code)
        if obj is None:
            raise serializers.ValidationError(
                _("未知的%(kind)s代码：%(code)s。") % {"kind": self.kind, "code": code[:40]}
            )
        return obj


def _django_errors(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


class PublicTipInputSerializer(serializers.Serializer):
    description = serializers.CharField(allow_blank=True, trim_whitespace=True)
    sector = CodeField(Sector, _("行业领域"))
    region = CodeField(Region, _("地区"))
    location = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    accused = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    occurred_at = serializers.DateField(required=False, allow_null=True, default=None)
    anonymous = serializers.BooleanField(required=False, default=True)
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_id_number = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_address = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_contact = serializers.CharField(required=False, allow_blank=True, default="")
    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, default=list
    )
    website = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)

    default_error_messages = {"honeypot": _("提交未通过安全校验。")}

    def validate_description(self, value):
        try:
            return validators.validate_description(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)

    def validate_occurred_at(self, value):
        try:
            validators.validate_not_future_date(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)
        return value

    def validate_attachments(self, value):
        accepted, errors = uploads.check_uploads(value)
        if errors:
            raise serializers.ValidationError(errors)
        return accepted

    def identity(self, data) -> dict:
        return {k: data.get(f"reporter_{k}", "") for k in crypto.IDENTITY_FIELDS}

    def validate(self, data):
        if data.get("website"):
            raise serializers.ValidationError({"website": [self.error_messages["honeypot"]]})
        try:
            validators.validate_identity(anonymous=data["anonymous"], identity=self.identity(data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc))
        return data


class StaffTipInputSerializer(PublicTipInputSerializer):
    channel = serializers.ChoiceField(choices=[c for c in Channel.choices if c[0] != Channel.ONLINE])
    received_at = serializers.DateTimeField()
    original_reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    def validate_received_at(self, value):
        try:
            validators.validate_not_future_datetime(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)
        return value


class ReceiptOutputSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    pin = serializers.CharField()
    received_at = serializers.DateTimeField()


class FollowupInputSerializer(serializers.Serializer):
    tracking_code = serializers.CharField(max_length=30)
    pin = serializers.CharField(max_length=20)

    def validate_tracking_code(self, value):
        code = crypto.tracking_code_normalize(value)
        if not crypto.tracking_code_is_wellformed(code):
            raise serializers.ValidationError(
                _("查询码格式不正确：应为 12 位字母和数字，如 AC3F-7KMP-9QRT。")
            )
        return code


class PublicMessageInputSerializer(FollowupInputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=True)
    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, default=list
    )

    def validate_body(self, value):
        try:
            return validators.validate_message_body(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)

    def validate_attachments(self, value):
        accepted, errors = uploads.check_uploads(value)
        if errors:
            raise serializers.ValidationError(errors)
        return accepted


class PublicEventOutputSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="public_text")

    class Meta:
        model = TipEvent
        fields = ["at", "text"]


class PublicAttachmentOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")

    class Meta:
        model = TipAttachment
        fields = ["id", "name", "size"]


class PublicMessageOutputSerializer(serializers.ModelSerializer):
    attachments = PublicAttachmentOutputSerializer(many=True, read_only=True)

    class Meta:
        model = TipMessage
        fields = ["id", "direction", "body", "created_at", "attachments"]


class FollowupOutputSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    status = serializers.CharField(source="public_status")
    status_label = serializers.CharField(source="get_public_status_display")
    conclusion = serializers.CharField(source="public_conclusion")
    received_at = serializers.DateTimeField()
    timeline = PublicEventOutputSerializer(many=True)
    messages = PublicMessageOutputSerializer(many=True)
    reward = serializers.DictField(allow_null=True)


class ReporterOutputSerializer(serializers.Serializer):
    """Masked unless the view passes the revealed identity."""

    anonymous = serializers.BooleanField()
    masked = serializers.BooleanField()
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    id_number = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    contact = serializers.CharField(allow_blank=True)


def reporter_payload(tip: Tip, identity: dict | None = None) -> dict:
    source = identity if identity is not None else (tip.identity_masked or {})
    return {
        "anonymous": tip.anonymous,
        "masked": identity is None,
        **{k: source.get(k, "") for k in crypto.IDENTITY_FIELDS},
    }


class StaffAttachmentOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = TipAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "source", "created_at", "url"]

    def get_url(self, obj) -> str:
        return reverse("reports:attachment_download", args=[obj.pk])


class StaffTipOutputSerializer(serializers.ModelSerializer):
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reporter = serializers.SerializerMethodField()

    class Meta:
        model = Tip
        fields = [
            "id",
            "tracking_code",
            "channel",
            "status",
            "public_status",
            "sector",
            "region",
            "unit",
            "location",
            "occurred_at",
            "received_at",
            "description",
            "accused",
            "anonymous",
            "reporter",
            "original_reference",
            "routed_at",
            "triaged_at",
            "triage_note",
            "duplicate_of",
            "unread_replies",
            "version",
        ]

    def get_reporter(self, obj) -> dict:
        return reporter_payload(obj)


class StaffTipDetailOutputSerializer(StaffTipOutputSerializer):
    attachments = serializers.SerializerMethodField()

    class Meta(StaffTipOutputSerializer.Meta):
        fields = StaffTipOutputSerializer.Meta.fields + ["attachments"]

    def get_attachments(self, obj) -> list:
        qs = obj.attachments.filter(message__isnull=True)
        return StaffAttachmentOutputSerializer(qs, many=True).data


class RevealInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, error_messages={"required": _("请填写查看事由。"), "blank": _("请填写查看事由。")}
    )


class RevealOutputSerializer(serializers.Serializer):
    tip = serializers.IntegerField()
    reporter = ReporterOutputSerializer()
