"""Lead API serializers: output and input kept apart; output reads prefetched data only (no per-row queries)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Disposition, Priority, Result
from ..selectors import can_see_findings, lead_allowed_actions, lead_units, traffic_light
from ..services import TRIAGE_ACTIONS
from ..workflow import ACTIONS


def signoff_data(signoff) -> dict:
    return {
        "id": signoff.pk,
        "kind": signoff.kind,
        "result": signoff.result,
        "signed_by": signoff.signer_name,
        "title": signoff.signer_title,
        "signed_at": signoff.signed_at.isoformat(),
    }


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    is_primary = serializers.BooleanField()
    assigned_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    overdue = serializers.SerializerMethodField()
    light = serializers.SerializerMethodField()
    accepted_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField()
    result = serializers.CharField()
    findings = serializers.SerializerMethodField()
    sent_back_reason = serializers.CharField()
    returned_count = serializers.IntegerField()
    extension_count = serializers.IntegerField()
    pending_extension = serializers.IntegerField(allow_null=True)
    escalation_level = serializers.IntegerField()
    routing_reason = serializers.CharField()
    # issue 11: sign-for, send-back window, report-backs, sign-off
    accept_deadline = serializers.DateTimeField()
    send_back_until = serializers.DateTimeField()
    send_back_refused = serializers.BooleanField()
    sign_for_level = serializers.IntegerField()
    first_report_due = serializers.DateTimeField()
    first_report_at = serializers.DateTimeField()
    pending_stage = serializers.IntegerField(allow_null=True, default=None)
    signoff_requested_at = serializers.DateTimeField()
    draft_result = serializers.SerializerMethodField()
    signoff = serializers.SerializerMethodField()

    def get_draft_result(self, obj) -> str | None:
        user = self.context["request"].user
        return obj.draft_result if can_see_findings(user, obj) else None

    def get_signoff(self, obj) -> dict | None:
        return signoff_data(obj.signoff) if obj.signoff_id else None

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(self.context.get("now"))

    def get_light(self, obj) -> str:
        return traffic_light(obj.deadline, self.context.get("now")) if obj.is_open else ""

    def get_findings(self, obj) -> str | None:
        user = self.context["request"].user
        return obj.findings if can_see_findings(user, obj) else None


class LeadOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    priority = serializers.CharField()
    source = serializers.CharField(source="source.code", default=None)
    source_name = serializers.CharField(source="source.name", default=None)
    origin_reference = serializers.CharField()
    summary = serializers.CharField()
    accused = serializers.CharField()
    sector = serializers.CharField(source="sector.code")
    sector_name = serializers.CharField(source="sector.name")
    region = serializers.CharField(source="region.code")
    region_name = serializers.CharField(source="region.name")
    unit = serializers.SerializerMethodField(help_text="code of the primary (first active) assignment's unit")
    units = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    deadline = serializers.DateTimeField()
    overdue = serializers.SerializerMethodField()
    result = serializers.CharField()
    disposition = serializers.CharField()
    public_conclusion = serializers.CharField()
    discipline_referred = serializers.BooleanField()
    restricted = serializers.BooleanField()
    tips = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    light = serializers.SerializerMethodField(
        help_text="green / yellow / red / black (overdue); empty when closed"
    )
    repeat_count = serializers.IntegerField()
    review_pending = serializers.BooleanField()
    escalated_handling = serializers.BooleanField()
    closure_signoff = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    def get_light(self, obj) -> str:
        return traffic_light(obj.deadline, self.context.get("now")) if obj.status != "closed" else ""

    def get_closure_signoff(self, obj) -> dict | None:
        return signoff_data(obj.closure_signoff) if obj.closure_signoff_id else None

    def get_unit(self, obj) -> str | None:
        units = lead_units(obj)
        return units[0].code if units else None

    def get_units(self, obj) -> list[str]:
        return [u.code for u in lead_units(obj)]

    def get_assignments(self, obj) -> list[dict]:
        return AssignmentOutputSerializer(obj.assignment_list, many=True, context=self.context).data

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(self.context.get("now"))

    def get_tips(self, obj) -> list[int]:
        return [link.tip_id for link in obj.tip_links]

    def get_allowed_actions(self, obj) -> list[str]:
        return lead_allowed_actions(obj, self.context["request"].user, self.context.get("now"))


class LeadEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    actor_unit = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    data = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    def get_action_label(self, obj) -> str:
        action = ACTIONS.get(obj.action)
        return str(action.label) if action else obj.action

    def get_actor(self, obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None

    def get_actor_unit(self, obj) -> str | None:
        return obj.actor.unit.code if obj.actor_id and obj.actor.unit_id else None

    def get_unit(self, obj) -> str | None:
        return obj.assignment.unit.code if obj.assignment_id else None

    def get_data(self, obj) -> dict:
        data = dict(obj.data or {})
        # Findings in event data follow the same rule as on the assignment.
        if obj.assignment_id and not can_see_findings(self.context["request"].user, obj.assignment):
            data.pop("findings", None)
            data.pop("previous", None)
        return data

    def get_attachments(self, obj) -> list[dict]:
        if obj.assignment_id and not can_see_findings(self.context["request"].user, obj.assignment):
            return []
        return [{"id": a.pk, "name": a.name, "size": a.size} for a in obj.attachments.all()]


class LeadTransitionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, str(ACTIONS[a].label)) for a in ACTIONS if a != "register"])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(required=False, min_value=1, help_text=_("页面/客户端读取到的版本号"))
    units = serializers.ListField(child=serializers.CharField(), required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=250)
    assignment = serializers.IntegerField(required=False)
    unit = serializers.CharField(required=False)
    extension = serializers.IntegerField(required=False)
    result = serializers.ChoiceField(choices=Result.choices, required=False)
    findings = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    disposition = serializers.ChoiceField(choices=Disposition.choices, required=False)
    public_conclusion = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    refer_discipline = serializers.BooleanField(required=False, default=False)
    tips = serializers.ListField(child=serializers.IntegerField(), required=False)
    attachments = serializers.ListField(child=serializers.FileField(), required=False)


class SignOffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    unit = serializers.CharField(source="assignment.unit.code", default=None)
    result = serializers.CharField()
    signed_by = serializers.CharField(source="signer_name")
    title = serializers.CharField(source="signer_title")
    signed_at = serializers.DateTimeField()
    note = serializers.CharField()


class ReportBackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    unit = serializers.CharField(source="assignment.unit.code")
    body = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    late = serializers.BooleanField(source="is_late")
    attachments = serializers.SerializerMethodField()

    def get_attachments(self, obj) -> list[dict]:
        if obj.event is None:
            return []
        return [{"id": a.pk, "name": a.name, "size": a.size} for a in obj.event.attachments.all()]


class CallBackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    lead_number = serializers.CharField(source="lead.number")
    tip = serializers.IntegerField(source="tip_id")
    month = serializers.DateField(format="%Y-%m")
    status = serializers.CharField()
    outcome = serializers.CharField()
    notes = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    review = serializers.IntegerField(source="review_id", allow_null=True)


class CallBackRecordInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("done", _("已回访")), ("unreachable", _("无法联系"))])
    outcome = serializers.ChoiceField(
        choices=[("satisfied", _("满意")), ("basically", _("基本满意")), ("unsatisfied", _("不满意"))],
        required=False,
        allow_blank=True,
        default="",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class LeadCreateInputSerializer(serializers.Serializer):
    sector = serializers.CharField()
    region = serializers.CharField()
    summary = serializers.CharField(max_length=20000)
    accused = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, default=Priority.NORMAL)
    source = serializers.CharField(required=False, allow_blank=True, default="")
    origin_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    restricted = serializers.BooleanField(required=False, default=False)
    tips = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    units = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    days = serializers.IntegerField(required=False, min_value=1, max_value=250)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TipTriageInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[
            ("register", _("登记为线索")),
            ("merge", _("并入已有线索")),
            ("duplicate", _("重复举报")),
            ("reject", _("不予受理")),
        ],
        required=False,
    )
    decision = serializers.ChoiceField(
        choices=list(TRIAGE_ACTIONS), required=False, help_text=_("action 的别名")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    lead = serializers.IntegerField(required=False, help_text=_("并入的线索 id"))
    lead_version = serializers.IntegerField(required=False)
    duplicate_of = serializers.IntegerField(required=False, help_text=_("与之重复的举报 id"))
    sector = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    accused = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, default=Priority.NORMAL)
    source = serializers.CharField(required=False, allow_blank=True, default="")
    restricted = serializers.BooleanField(required=False, default=False)
    units = serializers.ListField(child=serializers.CharField(), required=False)
    use_proposal = serializers.BooleanField(
        required=False, default=False, help_text=_("units 为空时按分办建议派单")
    )
    days = serializers.IntegerField(required=False, min_value=1, max_value=250)

    def validate(self, attrs):
        action = attrs.get("action") or attrs.get("decision")
        if not action:
            raise serializers.ValidationError({"action": [_("请选择研判方式。")]})
        attrs["action"] = action
        return attrs


class ProposalOutputSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_name = serializers.CharField()
    reason = serializers.CharField()
    rule = serializers.IntegerField(allow_null=True)
    deadline_days = serializers.IntegerField(allow_null=True)


def serializer_context(request) -> dict:
    return {"request": request, "now": timezone.now()}
