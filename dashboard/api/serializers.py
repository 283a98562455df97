"""Summary API: the filter input (same parameters as the pages) and the output shape, kept apart."""

from rest_framework import serializers


class SummaryQuerySerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/dashboard/summary/ (documentation; the dashboard form validates)."""

    period = serializers.ChoiceField(
        choices=["week", "month", "quarter", "year", "phase", "custom"], required=False, help_text="统计时段"
    )
    phase = serializers.IntegerField(required=False, help_text="工作阶段 id（period=phase）")
    date_from = serializers.DateField(required=False, help_text="开始日期（period=custom）")
    date_to = serializers.DateField(required=False, help_text="结束日期（period=custom）")
    region = serializers.CharField(required=False, help_text="地区代码")
    sector = serializers.CharField(required=False, help_text="行业领域代码")
    channel = serializers.CharField(required=False, help_text="举报渠道")
    sections = serializers.CharField(
        required=False, help_text="逗号分隔：overview,channels,matrix,units（默认全部）"
    )


class SummarySerializer(serializers.Serializer):
    """Output: the same numbers the pages show."""

    filters = serializers.DictField()
    as_of = serializers.DictField()
    overview = serializers.DictField(required=False)
    channels = serializers.DictField(required=False)
    matrix = serializers.DictField(required=False)
    units = serializers.ListField(child=serializers.DictField(), required=False)
