"""Dashboard filters: one form for the pages, the exports and the API; one value object for the selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaign.models import Phase, Region, Sector
from campaign.roles import Role
from reports.models import Channel


class Period:
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    PHASE = "phase"
    CUSTOM = "custom"

    CHOICES = [
        (WEEK, gettext_lazy("本周")),
        (MONTH, gettext_lazy("本月")),
        (QUARTER, gettext_lazy("本季度")),
        (YEAR, gettext_lazy("本年度")),
        (PHASE, gettext_lazy("工作阶段")),
        (CUSTOM, gettext_lazy("自定义时段")),
    ]


MAX_SPAN_DAYS = 366 * 10


@dataclass(frozen=True)
class DashboardFilters:
    """What every dashboard number is restricted to. Dates are local calendar days, both inclusive."""

    date_from: dt.date
    date_to: dt.date
    period: str = Period.CUSTOM
    phase_id: int | None = None
    region_id: int | None = None
    sector_id: int | None = None
    channel: str = ""
    # Restricted leads (限制知悉) are left out of every count for viewers who may not see them (issue 11).
    include_restricted: bool = True
    # "Today" for week/month figures, overdue and not-accepted counts; tests pin it.
    today: dt.date | None = None
    label: str = ""
    previous_from: dt.date | None = None
    previous_to: dt.date | None = None

    @property
    def reference_day(self) -> dt.date:
        return self.today or timezone.localdate()

    def previous(self) -> DashboardFilters:
        """The period before this one, cut to the same number of days when this one is still running."""
        if self.previous_from and self.previous_to:
            start, end = self.previous_from, self.previous_to
        else:
            length = self.date_to - self.date_from
            end = self.date_from - dt.timedelta(days=1)
            start = end - length
        elapsed = min(self.date_to, self.reference_day) - self.date_from
        if elapsed >= dt.timedelta(0) and self.date_to > self.reference_day:
            end = min(end, start + elapsed)
        return replace(self, date_from=start, date_to=end, previous_from=None, previous_to=None, label="")

    def with_range(self, start: dt.date, end: dt.date) -> DashboardFilters:
        return replace(self, date_from=start, date_to=end, previous_from=None, previous_to=None, label="")

    def as_params(self) -> dict[str, str]:
        """Query parameters that rebuild these filters (export jobs store them)."""
        params = {
            "period": self.period,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
        }
        if self.phase_id:
            params["phase"] = str(self.phase_id)
        if self.channel:
            params["channel"] = self.channel
        for key, model, pk in (("region", Region, self.region_id), ("sector", Sector, self.sector_id)):
            if pk:
                params[key] = model.objects.values_list("code", flat=True).get(pk=pk)
        return params


# --- calendar arithmetic ---------------------------------------------------------------------------
def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return start, nxt - dt.timedelta(days=1)


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = day.replace(month=first_month, day=1)
    _s, end = month_bounds(start.replace(month=first_month + 2))
    return start, end


def year_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    return day.replace(month=1, day=1), day.replace(month=12, day=31)


def previous_bounds(period: str, start: dt.date) -> tuple[dt.date, dt.date] | None:
    before = start - dt.timedelta(days=1)
    return {
        Period.WEEK: week_bounds,
        Period.MONTH: month_bounds,
        Period.QUARTER: quarter_bounds,
        Period.YEAR: year_bounds,
    }.get(period, lambda _d: None)(before)


def current_phase(today: dt.date) -> Phase | None:
    return Phase.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by("-starts_on").first()


def phase_before(phase: Phase) -> Phase | None:
    return Phase.objects.filter(starts_on__lt=phase.starts_on).order_by("-starts_on").first()


def sees_restricted_counts(user) -> bool:
    """Whether restricted leads (限制知悉) count in this user's numbers: office leaders only, the same rule
    as leads.selectors.lead_list_visible_to (everyone else sees counts without them)."""
    return bool(user and user.role == Role.OFFICE and user.is_office_leader)


# --- the form ----------------------------------------------------------------------------------------
class DashboardFilterForm(forms.Form):
    """Period or phase, region, sector, channel. Invalid input gives field errors, never a 500."""

    period = forms.ChoiceField(label=gettext_lazy("统计时段"), choices=Period.CHOICES, required=False)
    phase = forms.ModelChoiceField(
        label=gettext_lazy("工作阶段"), queryset=Phase.objects.order_by("-starts_on"), required=False
    )
    date_from = forms.DateField(label=gettext_lazy("开始日期"), required=False)
    date_to = forms.DateField(label=gettext_lazy("结束日期"), required=False)
    region = forms.ModelChoiceField(
        label=gettext_lazy("地区"),
        queryset=Region.objects.order_by("sort_order", "code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("全市"),
    )
    sector = forms.ModelChoiceField(
        label=gettext_lazy("行业领域"),
        queryset=Sector.objects.order_by("sort_order", "code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("全部行业"),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("举报渠道"),
        choices=[("", gettext_lazy("全部渠道")), *Channel.choices],
        required=False,
    )

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["phase"].empty_label = _("当前阶段")

    def clean(self):
        data = super().clean()
        period = data.get("period") or (Period.PHASE if current_phase(self.today) else Period.MONTH)
        data["period"] = period
        if period == Period.PHASE and not data.get("phase"):
            data["phase"] = current_phase(self.today)
            if data["phase"] is None:
                self.add_error("phase", _("当前不在任何工作阶段内，请选择一个工作阶段。"))
        if period == Period.CUSTOM:
            start, end = data.get("date_from"), data.get("date_to")
            if not start and "date_from" not in self.errors:
                self.add_error("date_from", _("自定义时段请填写开始日期。"))
            if not end and "date_to" not in self.errors:
                self.add_error("date_to", _("自定义时段请填写结束日期。"))
            if start and end:
                if end < start:
                    self.add_error("date_to", _("结束日期不能早于开始日期。"))
                elif (end - start).days > MAX_SPAN_DAYS:
                    self.add_error("date_to", _("统计时段最长十年。"))
        return data

    def filters(self, *, user=None) -> DashboardFilters:
        """The filters of a valid form (call is_valid() first)."""
        data = self.cleaned_data
        period = data["period"]
        today = self.today
        previous = None
        phase = data.get("phase")
        if period == Period.PHASE:
            start, end = phase.starts_on, phase.ends_on
            label = phase.name
            before = phase_before(phase)
            if before is not None:
                previous = (before.starts_on, before.ends_on)
        elif period == Period.CUSTOM:
            start, end = data["date_from"], data["date_to"]
            label = f"{start:%Y-%m-%d} — {end:%Y-%m-%d}"
        else:
            start, end = {
                Period.WEEK: week_bounds,
                Period.MONTH: month_bounds,
                Period.QUARTER: quarter_bounds,
                Period.YEAR: year_bounds,
            }[period](today)
            previous = previous_bounds(period, start)
            label = f"{dict(Period.CHOICES)[period]}（{start:%m-%d} — {end:%m-%d}）"
        region = data.get("region")
        if region is not None and region.level == Region.Level.CITY:
            region = None  # the whole city: no restriction
        return DashboardFilters(
            date_from=start,
            date_to=end,
            period=period,
            phase_id=phase.pk if period == Period.PHASE and phase else None,
            region_id=region.pk if region else None,
            sector_id=data["sector"].pk if data.get("sector") else None,
            channel=data.get("channel") or "",
            include_restricted=True if user is None else sees_restricted_counts(user),
            today=today,
            label=str(label),
            previous_from=previous[0] if previous else None,
            previous_to=previous[1] if previous else None,
        )


def filters_from_params(
    params, *, user=None, today: dt.date | None = None
) -> tuple[DashboardFilters | None, DashboardFilterForm]:
    """(filters, form) from query parameters; filters is None when the form has errors.

    Defaults (the current phase, else this month) are written into the form's data so the page shows
    what it counts.
    """
    today = today or timezone.localdate()
    data = params.copy() if hasattr(params, "copy") else dict(params)
    if not data.get("period"):
        phase = current_phase(today)
        data["period"] = Period.PHASE if phase else Period.MONTH
        if phase and not data.get("phase"):
            data["phase"] = str(phase.pk)
    elif data.get("period") == Period.PHASE and not data.get("phase"):
        phase = current_phase(today)
        if phase:
            data["phase"] = str(phase.pk)
    form = DashboardFilterForm(data, today=today)
    if not form.is_valid():
        return None, form
    return form.filters(user=user), form
