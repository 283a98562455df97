"""Forms for the lead pages. They only shape input; the rules (required reasons, allowed states) live in
the services, whose field errors are put back on these forms by name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaign.models import Region, Sector, Unit

from .models import AssignmentStatus, Disposition, LeadSource, Priority, Result

_TEXTAREA = {"rows": 3, "class": "form-control"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def unit_queryset():
    return Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.OFFICE).order_by("sort_order", "code")


class UnitsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", unit_queryset())
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault("label", _("承办单位"))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return obj.short_name or obj.name


class BootstrapMixin:
    """Bootstrap classes on every widget, so templates can render fields one by one."""

    def _style(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class LeadRegisterForm(BootstrapMixin, forms.Form):
    summary = forms.CharField(label=_("线索摘要"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    accused = forms.CharField(
        label=_("涉及人员/单位"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    sector = forms.ModelChoiceField(label=_("行业领域"), queryset=Sector.objects.all(), to_field_name="code")
    region = forms.ModelChoiceField(label=_("发生地区"), queryset=Region.objects.all(), to_field_name="code")
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL)
    source = forms.ModelChoiceField(
        label=_("线索来源"),
        queryset=LeadSource.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
    )
    origin_reference = forms.CharField(label=_("来文编号"), required=False, max_length=100)
    restricted = forms.BooleanField(label=_("限制知悉范围"), required=False)
    units = UnitsField(help_text=_("可多选；不选则仅登记，稍后派单。"))
    days = forms.IntegerField(
        label=_("核查时限（工作日）"),
        required=False,
        min_value=1,
        max_value=250,
        help_text=_("留空按配置的默认时限。"),
    )
    note = forms.CharField(label=_("登记意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class TipMergeForm(BootstrapMixin, forms.Form):
    lead_number = forms.CharField(label=_("并入线索编号"), max_length=30)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class TipDuplicateForm(BootstrapMixin, forms.Form):
    duplicate_of = forms.CharField(label=_("与之重复的举报查询码"), max_length=20)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class TipRejectForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("不予受理理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class TriageBulkForm(BootstrapMixin, forms.Form):
    ACTIONS = [
        ("register_each", _("按分办建议逐条登记并派单")),
        ("register_one", _("合并登记为一条线索（按第一条的建议派单）")),
        ("merge", _("并入已有线索")),
        ("reject", _("不予受理")),
    ]
    bulk_action = forms.ChoiceField(label=_("批量操作"), choices=ACTIONS)
    tips = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], required=False, widget=forms.MultipleHiddenInput
    )
    lead_number = forms.CharField(label=_("并入线索编号"), required=False, max_length=30)
    note = forms.CharField(label=_("意见/理由"), required=False, max_length=2000)

    def __init__(self, *args, tip_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tips"].choices = [(t, t) for t in tip_ids]
        self._style()


# --- workflow action forms -----------------------------------------------------------------------
class ActionForm(BootstrapMixin, forms.Form):
    """Base for the action forms on the lead page: the action name and the version the user saw."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    note_label = _("说明")
    # Marked with * on the page; the service enforces them and its errors come back on these fields.
    marked_required: tuple[str, ...] = ()

    def __init__(self, *args, lead=None, assignments=(), user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead = lead
        self.assignments = list(assignments)
        self.user = user
        if "note" in self.fields:
            self.fields["note"].label = self.note_label
        for name in self.marked_required:
            if name in self.fields:
                self.fields[name].show_required = True
        self._style()

    def assignment_choices(self, statuses):
        return [(a.pk, a.unit.short_name or a.unit.name) for a in self.assignments if a.status in statuses]

    def mine(self, statuses=(AssignmentStatus.ACCEPTED,)):
        unit_id = getattr(self.user, "unit_id", None)
        for a in self.assignments:
            if unit_id and a.unit_id == unit_id and a.status in statuses:
                return a
        return None


class AcceptForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("签收意见（可不填）")


class SendBackForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("退单理由")
    marked_required = ("note",)


class ExtensionRequestForm(ActionForm):
    days = forms.IntegerField(label=_("延长工作日"), min_value=1, max_value=250, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("延期理由")
    marked_required = ("days", "note")


class ExtensionDecisionForm(ActionForm):
    extension = forms.TypedChoiceField(label=_("延期申请"), coerce=int, choices=[], required=False)
    days = forms.IntegerField(
        label=_("同意延长工作日"), min_value=1, max_value=250, required=False, help_text=_("留空按申请天数。")
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("审批意见")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extension"].choices = [
            (a.pending_extension, a.unit.short_name or a.unit.name)
            for a in self.assignments
            if a.pending_extension
        ]


class ExtensionRefuseForm(ExtensionDecisionForm):
    note_label = _("不同意的理由")
    marked_required = ("note",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["days"]


class ResultFieldsForm(ActionForm):
    result = forms.ChoiceField(
        label=_("核查结论"), choices=Result.choices, widget=forms.RadioSelect, required=False
    )
    findings = forms.CharField(
        label=_("核查情况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("写明核查经过、查明的事实、依据和处理意见。"),
    )
    attachments = MultipleFileField(label=_("附件"), help_text=_("询问笔录、现场照片、处罚决定书等。"))
    marked_required = ("result", "findings")
    signed = None


class SubmitResultForm(ResultFieldsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mine = self.mine()
        if mine is not None and mine.signoff_id:
            # What the unit head signed is what goes to the office; the page shows it with the button.
            del self.fields["result"]
            del self.fields["findings"]
            self.signed = mine.signoff
            self.fields["attachments"].help_text = _(
                "如有补充材料可一并上传；结论和核查情况以签字背书的内容为准。"
            )


class RequestSignOffForm(ResultFieldsForm):
    """The liaison's result put to the unit head; prefilled from the last draft."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mine = self.mine()
        if mine is not None and not self.is_bound and mine.draft_findings:
            self.initial.setdefault("result", mine.draft_result)
            self.initial.setdefault("findings", mine.draft_findings)


class ReportForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    note_label = _("回告内容")
    attachments = MultipleFileField(label=_("附件"))
    marked_required = ("note",)


class StageRequestForm(ActionForm):
    assignment = forms.TypedChoiceField(label=_("承办单位"), coerce=int, choices=[], required=False)
    days = forms.IntegerField(
        label=_("回告期限（工作日）"),
        min_value=1,
        max_value=60,
        required=False,
        help_text=_("留空按默认期限。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("回告要求")
    marked_required = ("assignment", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = [
            (a.pk, a.unit.short_name or a.unit.name)
            for a in self.assignments
            if a.status == AssignmentStatus.ACCEPTED and not getattr(a, "pending_stage", None)
        ]


class SignOffForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("签字意见（可不填）")


class DeclineSignOffForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("修改意见")
    marked_required = ("note",)


def _pending_send_back_choices(assignments):
    return [
        (a.pk, a.unit.short_name or a.unit.name)
        for a in assignments
        if a.status == AssignmentStatus.SENT_BACK and a.closed_at is None
    ]


class AcceptSendBackForm(ActionForm):
    assignment = forms.TypedChoiceField(label=_("退单单位"), coerce=int, choices=[], required=False)
    units = UnitsField(label=_("改由以下单位承办"))
    days = forms.IntegerField(
        label=_("核查时限（工作日）"),
        min_value=1,
        max_value=250,
        required=False,
        help_text=_("留空按配置的默认时限。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("裁定意见")
    marked_required = ("assignment", "units")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = _pending_send_back_choices(self.assignments)
        self.order_fields(["action", "version", "assignment", "units", "days", "note"])


class RefuseSendBackForm(ActionForm):
    assignment = forms.TypedChoiceField(label=_("退单单位"), coerce=int, choices=[], required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("不同意的理由")
    marked_required = ("assignment", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = _pending_send_back_choices(self.assignments)


class ClosureSignOffForm(ActionForm):
    result = forms.ChoiceField(
        label=_("核查结论"), choices=[("", _("按各单位核查结论"))] + Result.choices, required=False
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("签字意见（可不填）")


class ReviewEscalateForm(ActionForm):
    units = UnitsField(label=_("提级承办单位"), help_text=_("原承办单位以外的其他单位或上级单位。"))
    days = forms.IntegerField(
        label=_("核查时限（工作日）"),
        min_value=1,
        max_value=250,
        required=False,
        help_text=_("留空按配置的默认时限。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("评查意见")
    marked_required = ("units", "note")


class NoteRequiredForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    marked_required = ("note",)


class ReviewConfirmForm(NoteRequiredForm):
    note_label = _("维持原结论的理由")


class RestrictForm(NoteRequiredForm):
    note_label = _("限制理由")


class UnrestrictForm(NoteRequiredForm):
    note_label = _("取消理由")


class ReturnForm(ActionForm):
    assignment = forms.TypedChoiceField(label=_("退回单位"), coerce=int, choices=[], required=False)
    days = forms.IntegerField(
        label=_("重查时限（工作日）"),
        min_value=1,
        max_value=250,
        required=False,
        help_text=_("留空按默认时限。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note_label = _("退回理由")
    marked_required = ("assignment", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = self.assignment_choices([AssignmentStatus.SUBMITTED])


class AssignForm(ActionForm):
    units = UnitsField()
    days = forms.IntegerField(
        label=_("核查时限（工作日）"),
        min_value=1,
        max_value=250,
        required=False,
        help_text=_("留空按配置的默认时限。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("交办意见")
    marked_required = ("units",)


class ReassignForm(AssignForm):
    assignment = forms.TypedChoiceField(label=_("原承办单位"), coerce=int, choices=[], required=False)
    note_label = _("改派理由")
    marked_required = ("assignment", "units")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = [
            (a.pk, f"{a.unit.short_name or a.unit.name}（{a.get_status_display()}）")
            for a in self.assignments
            if a.is_active or (a.status == AssignmentStatus.SENT_BACK and a.closed_at is None)
        ]
        self.order_fields(["action", "version", "assignment", "units", "days", "note"])


class CloseForm(ActionForm):
    disposition = forms.ChoiceField(
        label=_("办结方式"), choices=[("", "—")] + Disposition.choices, required=False
    )
    result = forms.ChoiceField(
        label=_("核查结论"),
        choices=[("", _("按各单位核查结论"))] + Result.choices,
        required=False,
    )
    refer_discipline = forms.BooleanField(label=_("涉嫌“保护伞”，同时移送纪委监委"), required=False)
    public_conclusion = forms.CharField(
        label=_("向举报人公开的办理结果"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("举报人凭查询码可见；不要写入单位内部情况和其他人员信息。"),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("办结意见")
    marked_required = ("disposition",)


class ReopenForm(ActionForm):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note_label = _("重新启动理由")
    marked_required = ("note",)


class MergeForm(ActionForm):
    tips = forms.CharField(
        label=_("举报查询码"), required=False, help_text=_("多个用空格分隔；仅限待研判的举报。")
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    marked_required = ("tips",)


ACTION_FORMS = {
    "assign": AssignForm,
    "accept": AcceptForm,
    "send_back": SendBackForm,
    "request_extension": ExtensionRequestForm,
    "approve_extension": ExtensionDecisionForm,
    "refuse_extension": ExtensionRefuseForm,
    "submit_result": SubmitResultForm,
    "return_for_reverification": ReturnForm,
    "reassign": ReassignForm,
    "close": CloseForm,
    "reopen": ReopenForm,
    "merge": MergeForm,
    "report_first": ReportForm,
    "report_stage": ReportForm,
    "request_stage_report": StageRequestForm,
    "request_sign_off": RequestSignOffForm,
    "sign_off": SignOffForm,
    "decline_sign_off": DeclineSignOffForm,
    "accept_send_back": AcceptSendBackForm,
    "refuse_send_back": RefuseSendBackForm,
    "sign_off_closure": ClosureSignOffForm,
    "review_escalate": ReviewEscalateForm,
    "review_confirm": ReviewConfirmForm,
    "restrict": RestrictForm,
    "unrestrict": UnrestrictForm,
}
