"""One FilterSet for the lead register page and GET /api/v1/leads/ (query parameters named after fields)."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit

from .models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    Assignment,
    Disposition,
    Lead,
    LeadSource,
    LeadStatus,
    Priority,
    Result,
)
from .selectors import light_q

LIGHT_CHOICES = [("green", _("绿灯")), ("yellow", _("黄灯")), ("red", _("红灯")), ("black", _("超期"))]


class CodeChoiceFilter(django_filters.ModelChoiceFilter):
    """A foreign key filtered by the related object's code (?sector=transport)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "code")
        super().__init__(*args, **kwargs)


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("状态"), choices=LeadStatus.choices)
    unit = django_filters.ModelChoiceFilter(
        label=_("承办单位"),
        queryset=Unit.objects.filter(is_active=True),
        to_field_name="code",
        method="filter_unit",
    )
    sector = CodeChoiceFilter(label=_("行业领域"), queryset=Sector.objects.all())
    region = django_filters.ModelChoiceFilter(
        label=_("发生地区"), queryset=Region.objects.all(), to_field_name="code", method="filter_region"
    )
    priority = django_filters.ChoiceFilter(label=_("紧急程度"), choices=Priority.choices)
    source = CodeChoiceFilter(label=_("线索来源"), queryset=LeadSource.objects.all())
    result = django_filters.ChoiceFilter(label=_("核查结论"), choices=Result.choices)
    disposition = django_filters.ChoiceFilter(label=_("办结方式"), choices=Disposition.choices)
    overdue = django_filters.BooleanFilter(label=_("已超期"), method="filter_overdue")
    light = django_filters.MultipleChoiceFilter(
        label=_("红黄灯"), choices=LIGHT_CHOICES, method="filter_light"
    )
    review_pending = django_filters.BooleanFilter(label=_("待评查"))
    repeat = django_filters.BooleanFilter(label=_("查否后重复举报"), method="filter_repeat")
    discipline_referred = django_filters.BooleanFilter(label=_("移送纪委监委"))
    restricted = django_filters.BooleanFilter(label=_("限制知悉范围"))
    number = django_filters.CharFilter(label=_("线索编号"), lookup_expr="icontains")
    q = django_filters.CharFilter(label=_("关键词"), method="filter_q")
    created_after = django_filters.DateFilter(
        label=_("登记日期起"), field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        label=_("登记日期止"), field_name="created_at", lookup_expr="date__lte"
    )
    ordering = django_filters.OrderingFilter(
        label=_("排序"),
        # "light" sorts by the deadline: black first, then red, yellow, green (no deadline last).
        fields=(
            ("created_at", "created_at"),
            ("deadline", "deadline"),
            ("number", "number"),
            ("deadline", "light"),
        ),
        field_labels={
            "created_at": _("登记时间"),
            "deadline": _("期限"),
            "number": _("编号"),
            "light": _("红黄灯（紧急在前）"),
        },
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_unit(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Exists(
                Assignment.objects.filter(
                    lead=OuterRef("pk"), unit=value, status__in=ACTIVE_ASSIGNMENT_STATUSES
                )
            )
        )

    def filter_region(self, queryset, name, value):
        # The city's code covers its districts.
        if not value:
            return queryset
        return queryset.filter(Q(region=value) | Q(region__parent=value))

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        overdue = Q(deadline__lt=now) & ~Q(status=LeadStatus.CLOSED)
        if value is True:
            return queryset.filter(overdue)
        if value is False:
            return queryset.exclude(overdue)
        return queryset

    def filter_light(self, queryset, name, value):
        # One range on the indexed deadline per light (leads.selectors.light_q), never a Python pass.
        if not value:
            return queryset
        now = timezone.now()
        cond = Q()
        for light in value:
            cond |= light_q(light, now)
        return queryset.exclude(status=LeadStatus.CLOSED).filter(cond)

    def filter_repeat(self, queryset, name, value):
        if value is True:
            return queryset.filter(repeat_count__gt=0)
        if value is False:
            return queryset.filter(repeat_count=0)
        return queryset

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(summary__icontains=value) | Q(accused__icontains=value)
        )
