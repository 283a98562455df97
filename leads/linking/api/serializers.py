from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import ItemKind


# --- input ---------------------------------------------------------------------------------------
class PairInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ItemKind.choices,
        error_messages={"invalid_choice": _("类型“{input}”无效，应为 tip、lead 或 case。")},
    )
    id = serializers.IntegerField(min_value=1)


class LinkInputSerializer(PairInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class DismissInputSerializer(PairInputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


# --- output --------------------------------------------------------------------------------------
class RelatedItemOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    tracking_code = serializers.SerializerMethodField(help_text="举报的查询码（仅 kind=tip）")
    number = serializers.SerializerMethodField(help_text="线索编号或案件编号（kind=lead / case）")
    status = serializers.CharField(help_text="linked：已串并；suggested：系统建议")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    state = serializers.CharField(help_text="关联对象自身的状态")
    url = serializers.CharField()

    def get_tracking_code(self, item) -> str | None:
        return item.code if item.kind == ItemKind.TIP else None

    def get_number(self, item) -> str | None:
        return item.code if item.kind != ItemKind.TIP else None


class FlagOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="flag.pk")
    kind = serializers.CharField(source="flag.kind")
    label = serializers.CharField(source="display")
    unit = serializers.CharField(source="flag.unit.code")
    ends_on = serializers.DateField(source="flag.ends_on")
    reason = serializers.SerializerMethodField()

    def get_reason(self, view) -> str | None:
        return view.flag.reason if view.show_reason else None


class RelatedOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = RelatedItemOutputSerializer(many=True)
    flags = FlagOutputSerializer(many=True)
    hidden = serializers.IntegerField(help_text="已排除、不再显示的建议数")


class LinkOutputSerializer(serializers.Serializer):
    link = serializers.IntegerField()
    outcome = serializers.CharField()
    lead = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class DismissOutputSerializer(serializers.Serializer):
    dismissal = serializers.IntegerField()
    detail = serializers.CharField()
