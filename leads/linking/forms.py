from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .imports import FIELDS
from .models import CaseKind, EntityKind, ItemKind
from .services import WATCH_KINDS


class PairForm(forms.Form):
    """The other item of a link or dismissal, posted from a suggestion's buttons."""

    kind = forms.ChoiceField(label=_("类型"), choices=ItemKind.choices)
    id = forms.IntegerField(label=_("编号"), min_value=1)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class WatchFlagForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("对象类型"),
        choices=[(k, EntityKind(k).label) for k in WATCH_KINDS],
        initial=EntityKind.PERSON,
    )
    value = forms.CharField(
        label=_("监控对象"),
        max_length=200,
        help_text=_("人员姓名、公司名称、电话号码（任意写法）、地点（如“民主路菜市场”）、身份证号或车牌。"),
    )
    reason = forms.CharField(label=_("监控理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    ends_on = forms.DateField(
        label=_("监控截止日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["ends_on"].initial = timezone.localdate().replace(year=timezone.localdate().year + 1)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("案件清单文件"),
        help_text=_("CSV（UTF-8 或 GBK 编码）或 Excel（.xlsx），第一行为表头，最大 20 MB。"),
    )
    default_kind = forms.ChoiceField(
        label=_("案件类别"),
        choices=CaseKind.choices,
        help_text=_("文件中没有“案件类别”列时，全部按此类别导入。"),
    )


class MappingForm(forms.Form):
    """Which column of the file holds which field."""

    default_kind = forms.ChoiceField(label=_("默认案件类别"), choices=CaseKind.choices)

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("（不导入）"))] + [(str(i), f"{i + 1}. {h}") for i, h in enumerate(headers)]
        for name, (label, _words) in FIELDS.items():
            self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=False)

    def mapping(self) -> dict:
        return {name: self.cleaned_data.get(name) or None for name in FIELDS}
