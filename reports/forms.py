"""Forms for the public pages and the staff pages. Checks come from validators/uploads, shared with the API."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign import reference
from campaign.models import PublicityActivity, Region, Sector, Unit

from . import conf, crypto, uploads, validators
from .models import Channel, Reward, TypicalCase

CHOICE_ERRORS = {"invalid_choice": _("无效的选项，请重新选择。")}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Accepts several files; the real checks (type by content, sizes, count) happen in the form."""

    widget = MultipleFileInput

    def to_python(self, data):
        return data

    def clean(self, data, initial=None):
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


class AttachmentsMixin:
    """Uploads that survive a refused submission: good files go to the stash and are offered again."""

    def _init_attachments(self):
        token = self.data.get("upload_token", "") if self.is_bound else ""
        if not uploads.TOKEN_RE.match(token or ""):
            token = uploads.stash_token_new()
        self.stash_token = token
        self.fields["upload_token"].initial = token
        self.new_files: list[uploads.CheckedFile] = []
        self.kept_files: list[uploads.CheckedFile] = []
        lim = uploads.limits()
        self.fields["attachments"].widget.attrs.update(
            {
                "accept": uploads.ACCEPT_ATTR,
                "data-max-files": lim["max_files"],
                "data-max-bytes": lim["max_bytes"],
                "data-max-total": lim["max_total"],
            }
        )

    def clean_upload_token(self):
        return self.stash_token

    def clean_attachments(self):
        keep = set(self.data.getlist("keep_files")) if hasattr(self.data, "getlist") else set()
        self.kept_files = [f for f in uploads.stash_list(self.stash_token) if f.id in keep]
        new = self.files.getlist("attachments") if hasattr(self.files, "getlist") else []
        accepted, errors = uploads.check_uploads(new, kept=self.kept_files)
        self.new_files = accepted
        if errors:
            raise ValidationError(errors)
        return self.kept_files + accepted

    def preserve_uploads(self) -> None:
        """Keep what the informant already sent for the next attempt (called when the form is refused)."""
        keep = {f.id for f in self.kept_files}
        kept = uploads.stash_keep_only(self.stash_token, keep) if keep else []
        if not keep:
            uploads.stash_discard(self.stash_token)
        self.kept_files = uploads.stash_save(self.stash_token, kept, self.new_files)

    def discard_uploads(self) -> None:
        uploads.stash_discard(self.stash_token)


def _attachment_help() -> str:
    lim = uploads.limits()
    return _(
        "可上传照片、录音、视频、PDF 或 Office 文档，最多 %(files)d 个，单个不超过 %(size)d MB，合计不超过 %(total)d MB。"
    ) % {"files": lim["max_files"], "size": lim["max_bytes"] // 2**20, "total": lim["max_total"] // 2**20}


class CodeChoiceField(forms.ModelChoiceField):
    """A sector or region chosen by code, looked up through campaign.reference (no query per submission)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        row = reference.by_code(self.queryset.model, str(value))
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return row


class TipForm(AttachmentsMixin, forms.Form):
    """The public tip form. Works without JavaScript; the honeypot field stays empty for people."""

    description = forms.CharField(
        label=_("举报内容"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("请写清楚：什么人、在什么地方、做了什么事、有哪些人受害，以及您是怎么知道的。"),
        error_messages={"required": _("请填写举报内容。")},
    )
    accused = forms.CharField(
        label=_("被举报人或单位"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("姓名、绰号、公司名称等，知道多少写多少。"),
    )
    sector = CodeChoiceField(
        label=_("所属行业领域"),
        queryset=Sector.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("不清楚"),
        error_messages={"invalid_choice": _("未知的行业领域，请重新选择。")},
    )
    region = CodeChoiceField(
        label=_("发生地区"),
        queryset=Region.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("不清楚"),
        error_messages={"invalid_choice": _("未知的地区，请重新选择。")},
    )
    location = forms.CharField(label=_("具体地点"), required=False, max_length=200)
    occurred_at = forms.DateField(
        label=_("发生时间"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.validate_not_future_date],
        error_messages={"invalid": _("日期格式应为 年-月-日，例如 2026-03-01。")},
        help_text=_("大概日期即可；持续发生的，填写最近一次。"),
    )
    anonymous = forms.TypedChoiceField(
        label=_("举报方式"),
        choices=[("1", _("匿名举报")), ("0", _("实名举报"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
        error_messages=CHOICE_ERRORS,
        help_text=_("实名举报便于我们联系核实和发放奖励；匿名举报同样受理。"),
    )
    reporter_name = forms.CharField(label=_("姓名"), required=False, max_length=100)
    reporter_phone = forms.CharField(
        label=_("联系电话"), required=False, max_length=30, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    reporter_id_number = forms.CharField(label=_("身份证号码"), required=False, max_length=30)
    reporter_address = forms.CharField(label=_("联系地址"), required=False, max_length=200)
    reporter_contact = forms.CharField(
        label=_("其他联系方式"), required=False, max_length=200, help_text=_("如电子邮箱、微信号。")
    )
    attachments = MultipleFileField(label=_("证据材料"), required=False)
    upload_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Honeypot: hidden from people by CSS; bots fill every field they find.
    website = forms.CharField(label=_("网址（请勿填写）"), required=False)

    IDENTITY_FIELDS = ("name", "phone", "id_number", "address", "contact")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = conf.get("TIP_DESCRIPTION_MAX")
        self.fields["description"].widget.attrs.update({"maxlength": limit, "data-counter": limit})
        self.fields["attachments"].help_text = _attachment_help()
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.fields["region"].label_from_instance = lambda r: r.name
        self._init_attachments()

    def clean_description(self):
        return validators.validate_description(self.cleaned_data.get("description", ""))

    def identity(self) -> dict:
        return {k: self.cleaned_data.get(f"reporter_{k}", "") for k in self.IDENTITY_FIELDS}

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise ValidationError(_("提交未通过安全校验，请刷新页面后重新填写提交。"), code="honeypot")
        if "anonymous" in data:
            try:
                validators.validate_identity(anonymous=data["anonymous"], identity=self.identity())
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data


class StaffTipForm(TipForm):
    """Staff entry for tips that came by phone, letter, mailbox, visit, transfer or case files."""

    channel = forms.ChoiceField(
        label=_("举报渠道"),
        choices=[c for c in Channel.choices if c[0] != Channel.ONLINE],
        error_messages=CHOICE_ERRORS,
    )
    received_at = forms.DateTimeField(
        label=_("收到时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        validators=[validators.validate_not_future_datetime],
        error_messages={"required": _("请填写收到时间。"), "invalid": _("时间格式不正确。")},
    )
    original_reference = forms.CharField(
        label=_("原始文号/来件编号"),
        required=False,
        max_length=100,
        help_text=_("如来信编号、转办文号、12337编号。"),
    )

    field_order = ["channel", "received_at", "original_reference"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["website"]
        self.fields["attachments"].label = _("原件扫描件及其他材料")
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["description"].help_text = _("按来电、来信原意记录，不要加入个人判断。")
        self.fields["anonymous"].help_text = _("来电、来信人愿意留下身份信息时选择实名。")


class FollowupForm(forms.Form):
    tracking_code = forms.CharField(
        label=_("查询码"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "XXXX-XXXX-XXXX"}
        ),
        error_messages={"required": _("请填写查询码。")},
    )
    pin = forms.CharField(
        label=_("查询密码"),
        max_length=20,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        error_messages={"required": _("请填写查询密码。")},
    )

    def clean_tracking_code(self):
        code = crypto.tracking_code_normalize(self.cleaned_data["tracking_code"])
        if not crypto.tracking_code_is_wellformed(code):
            raise ValidationError(_("查询码格式不正确：应为 12 位字母和数字，如 AC3F-7KMP-9QRT。"))
        return code


class ReplyForm(AttachmentsMixin, forms.Form):
    body = forms.CharField(
        label=_("留言"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写留言内容。")},
    )
    attachments = MultipleFileField(label=_("补充材料"), required=False)
    upload_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["maxlength"] = conf.get("TIP_MESSAGE_MAX")
        self.fields["attachments"].help_text = _attachment_help()
        self._init_attachments()

    def clean_body(self):
        return validators.validate_message_body(self.cleaned_data.get("body", ""))


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看事由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("必填，将记入审计日志。例如：需联系举报人补充证据。"),
        error_messages={"required": _("请填写查看举报人身份的事由。")},
    )


class RewardProposeForm(forms.Form):
    amount = forms.DecimalField(
        label=_("奖励金额（元）"),
        min_value=0.01,
        max_digits=12,
        decimal_places=2,
        error_messages={"invalid": _("请填写金额数字。"), "min_value": _("奖励金额应大于 0。")},
    )
    basis = forms.ChoiceField(label=_("奖励依据"), choices=Reward.Basis.choices, error_messages=CHOICE_ERRORS)
    lead_result = forms.ChoiceField(
        label=_("线索核查结论"), choices=Reward.LeadResult.choices, error_messages=CHOICE_ERRORS
    )
    first_tip_code = forms.CharField(
        label=_("首报举报查询码"),
        required=False,
        max_length=30,
        help_text=_("多人举报同一问题时填写最先举报的那件的查询码；留空表示本举报即为首报。"),
    )
    basis_note = forms.CharField(
        label=_("依据说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RewardDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批意见"),
        choices=[("approve", _("同意")), ("reject", _("不同意"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是否同意。"), **CHOICE_ERRORS},
    )
    note = forms.CharField(label=_("意见说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RewardPayForm(forms.Form):
    paid_on = forms.DateField(
        label=_("发放日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请填写发放日期。"), "invalid": _("日期格式不正确。")},
    )
    payment_method = forms.ChoiceField(
        label=_("发放方式"), choices=Reward.PaymentMethod.choices, error_messages=CHOICE_ERRORS
    )
    payment_reference = forms.CharField(label=_("凭证号"), required=False, max_length=100)


class PublicityForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("单位"), queryset=Unit.objects.filter(is_active=True), empty_label=_("请选择单位")
    )
    held_on = forms.DateField(
        label=_("活动日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.validate_not_future_date],
        error_messages={"required": _("请填写活动日期。"), "invalid": _("日期格式不正确。")},
    )
    kind = forms.ChoiceField(
        label=_("形式"), choices=PublicityActivity.Kind.choices, error_messages=CHOICE_ERRORS
    )
    place = forms.CharField(label=_("地点"), required=False, max_length=120)
    reach = forms.IntegerField(
        label=_("覆盖人数"), min_value=0, initial=0, error_messages={"min_value": _("覆盖人数不能为负数。")}
    )
    description = forms.CharField(label=_("内容"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.role != "office":
            self.fields["unit"].queryset = Unit.objects.filter(pk=user.unit_id)
            self.fields["unit"].empty_label = None
        if user is not None:
            self.fields["unit"].initial = user.unit_id


class TypicalCaseForm(forms.ModelForm):
    class Meta:
        model = TypicalCase
        fields = ["title", "summary", "outcome", "sector", "region"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 6}), "outcome": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"summary": _("已隐去举报人和无关人员信息的案情摘要。")}


class StaffMessageForm(ReplyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("给举报人留言")
        self.fields["attachments"].label = _("附件")
