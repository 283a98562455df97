"""One FilterSet for the tip register page and the staff API (query parameters named after the fields)."""

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit

from .models import Channel, PublicStatus, Tip, TipStatus
from .selectors import tip_search

YES_NO = [("", _("全部")), ("true", _("是")), ("false", _("否"))]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class TipFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("关键词"), method="filter_q", max_length=100)
    channel = django_filters.ChoiceFilter(
        label=_("举报渠道"), choices=Channel.choices, empty_label=_("全部渠道")
    )
    status = django_filters.ChoiceFilter(
        label=_("研判状态"), choices=TipStatus.choices, empty_label=_("全部状态")
    )
    public_status = django_filters.ChoiceFilter(
        label=_("公开进度"), choices=PublicStatus.choices, empty_label=_("全部进度")
    )
    sector = django_filters.ModelChoiceFilter(
        label=_("行业领域"), queryset=Sector.objects.all(), to_field_name="code", empty_label=_("全部领域")
    )
    region = django_filters.ModelChoiceFilter(
        label=_("地区"), queryset=Region.objects.all(), to_field_name="code", empty_label=_("全部地区")
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("承办单位"), queryset=Unit.objects.all(), to_field_name="code", empty_label=_("全部单位")
    )
    received_from = django_filters.DateFilter(
        label=_("收到日期自"), method="filter_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = django_filters.DateFilter(
        label=_("至"), method="filter_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    anonymous = django_filters.BooleanFilter(label=_("匿名"), widget=forms.Select(choices=YES_NO))
    unread = django_filters.BooleanFilter(
        label=_("有未读回复"), method="filter_unread", widget=forms.Select(choices=YES_NO)
    )

    class Meta:
        model = Tip
        fields = ["q", "channel", "status", "public_status", "sector", "region", "unit", "anonymous"]

    def filter_q(self, qs, name, value):
        return tip_search(qs, value)

    def filter_from(self, qs, name, value):
        return qs.filter(received_at__gte=_day_start(value))

    def filter_to(self, qs, name, value):
        return qs.filter(received_at__lt=_day_start(value + dt.timedelta(days=1)))

    def filter_unread(self, qs, name, value):
        return qs.filter(unread_replies__gt=0) if value else qs.filter(unread_replies=0)
