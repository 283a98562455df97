"""Forms for the accountability pages. They only shape input; the services validate the rules."""

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from campaign.models import Phase, Region, Sector, Unit

from .models import ActionKind, PeriodKind


class Bootstrap:
    """Bootstrap classes on every widget, and aria-invalid on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self.fields[name].widget.attrs["class"] = (
                    self.fields[name].widget.attrs.get("class", "") + " is-invalid"
                )


def unit_choices():
    return Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE).order_by("sort_order", "code")


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.short_name or obj.name


class ActionForm(Bootstrap, forms.Form):
    kind = forms.ChoiceField(label=_("措施类型"), choices=ActionKind.choices)
    units = UnitMultipleChoiceField(
        label=_("对象单位"), queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    title = forms.CharField(
        label=_("标题"), max_length=200, required=False, help_text=_("留空按类型自动生成。")
    )
    addressees = forms.CharField(
        label=_("主送"), max_length=300, required=False, help_text=_("留空按对象单位生成。")
    )
    reasons = forms.CharField(label=_("问责事由"), widget=forms.Textarea(attrs={"rows": 3}))
    body = forms.CharField(
        label=_("正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("段落之间空一行；“一、”“（一）”开头的段落按标题排版。留空按事由生成。"),
    )
    leads = forms.CharField(
        label=_("关联线索编号"), required=False, help_text=_("多个用逗号或空格分隔，如 JZ-2026-000012。")
    )
    cc = forms.CharField(label=_("抄送"), max_length=300, required=False)
    talk_at = forms.DateTimeField(
        label=_("约谈时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    talk_place = forms.CharField(label=_("约谈地点"), max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = unit_choices()

    def lead_numbers(self) -> list[str]:
        raw = (self.cleaned_data.get("leads") or "").replace("，", ",").replace(",", " ")
        return [n for n in raw.split() if n]


class ItemForm(Bootstrap, forms.Form):
    description = forms.CharField(
        label=_("整改要求"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deadline_days = forms.IntegerField(label=_("时限（工作日）"), required=False, min_value=1, max_value=250)


ItemFormSet = formset_factory(ItemForm, extra=0, max_num=30, validate_max=True)


class NoteForm(Bootstrap, forms.Form):
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReportForm(Bootstrap, forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    body = forms.CharField(label=_("整改情况"), widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(Bootstrap, forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("验收意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TalkRecordForm(Bootstrap, forms.Form):
    talk_record = forms.CharField(label=_("约谈情况"), widget=forms.Textarea(attrs={"rows": 5}))


class AdjustForm(Bootstrap, forms.Form):
    adjustment = forms.DecimalField(
        label=_("调整分"), max_digits=6, decimal_places=2, min_value=-100, max_value=100
    )
    reason = forms.CharField(label=_("调整理由"), widget=forms.Textarea(attrs={"rows": 3}))


class PeriodForm(Bootstrap, forms.Form):
    period_kind = forms.ChoiceField(label=_("周期"), choices=PeriodKind.choices, required=False)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
    quarter = forms.IntegerField(label=_("季度"), min_value=1, max_value=4, required=False)


class TaskForm(Bootstrap, forms.Form):
    units = UnitMultipleChoiceField(
        label=_("责任单位"), queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    title = forms.CharField(label=_("任务"), max_length=200)
    description = forms.CharField(
        label=_("工作要求"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    phase = forms.ModelChoiceField(label=_("工作阶段"), queryset=Phase.objects.all(), required=False)
    deadline_days = forms.IntegerField(
        label=_("完成时限（工作日）"), required=False, min_value=1, max_value=250, initial=10
    )
    deadline = forms.DateField(
        label=_("或截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = unit_choices()


class TaskReportForm(Bootstrap, forms.Form):
    body = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 3}))
    progress = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    is_final = forms.BooleanField(label=_("任务已完成，申请报结"), required=False)


class TaskReviewForm(Bootstrap, forms.Form):
    decision = forms.ChoiceField(label=_("审核结论"), choices=[("accept", _("通过")), ("return", _("退回"))])
    note = forms.CharField(label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BacktrackLeadForm(Bootstrap, forms.Form):
    number = forms.CharField(label=_("线索编号"), max_length=30)


class BacktrackCellForm(Bootstrap, forms.Form):
    sector = forms.ModelChoiceField(label=_("行业领域"), queryset=Sector.objects.all(), to_field_name="code")
    region = forms.ModelChoiceField(label=_("地区"), queryset=Region.objects.all(), to_field_name="code")
    since = forms.DateField(label=_("自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
