"""Accountability API serializers: input and output kept apart."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import (
    Action,
    ActionKind,
    ActionSource,
    Assessment,
    PeriodKind,
    RectificationItem,
    RectificationReport,
)
from ..workflow import STEPS


# --- output --------------------------------------------------------------------------------------
class ReportOutputSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    submitted_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField()
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = RectificationReport
        fields = [
            "id",
            "unit",
            "body",
            "submitted_by",
            "submitted_at",
            "decision",
            "decided_by",
            "decided_at",
            "decision_note",
            "evidence",
        ]

    def get_evidence(self, obj) -> list[dict]:
        return [
            {
                "id": e.pk,
                "name": e.name,
                "size": e.size,
                "url": reverse("accountability:evidence", args=[e.pk]),
            }
            for e in obj.evidence.all()
        ]


class ItemOutputSerializer(serializers.ModelSerializer):
    reports = ReportOutputSerializer(many=True, read_only=True)

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "seq",
            "description",
            "deadline_days",
            "deadline",
            "status",
            "overdue_at",
            "accepted_at",
            "reports",
        ]


class ActionListOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="doc_number")
    units = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "id",
            "number",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "source",
            "title",
            "units",
            "issued_at",
            "doc_date",
            "rectify_deadline",
            "created_at",
            "url",
        ]

    def get_units(self, obj) -> list[str]:
        return [u.code for u in obj.units.all()]

    def get_url(self, obj) -> str:
        return reverse("accountability-api:action-detail", args=[obj.pk])


class ActionDetailOutputSerializer(ActionListOutputSerializer):
    persons = serializers.SerializerMethodField()
    leads = serializers.SerializerMethodField()
    items = ItemOutputSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    document_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta(ActionListOutputSerializer.Meta):
        fields = ActionListOutputSerializer.Meta.fields + [
            "reasons",
            "body",
            "addressees",
            "cc",
            "issuer",
            "talk_at",
            "talk_place",
            "talk_record",
            "dismissed_reason",
            "closed_at",
            "overdue_at",
            "persons",
            "leads",
            "items",
            "allowed_actions",
            "document_url",
            "pdf_url",
            "version",
        ]

    def get_persons(self, obj) -> list[dict]:
        return [
            {"name": p.name, "title": p.title, "unit": p.unit.code if p.unit else None}
            for p in obj.persons.all()
        ]

    def get_leads(self, obj) -> list[int]:
        return sorted(obj.leads.values_list("pk", flat=True))

    def get_allowed_actions(self, obj) -> list[str]:
        return self.context.get("allowed_actions", [])

    def get_document_url(self, obj) -> str:
        return reverse("accountability:action-document", args=[obj.pk])

    def get_pdf_url(self, obj) -> str:
        return reverse("accountability:action-pdf", args=[obj.pk])


class AssessmentOutputSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name")
    period = serializers.CharField(source="period_label")
    grade_label = serializers.CharField(source="get_grade_display")
    veto_number = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "unit",
            "unit_name",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "computed_score",
            "adjustment",
            "adjustment_reason",
            "score",
            "vetoed",
            "veto_number",
            "grade",
            "grade_label",
            "rank",
            "metrics",
            "computed_at",
        ]

    def get_veto_number(self, obj) -> str:
        return obj.veto_action.doc_number if obj.veto_action_id else ""


# --- input ---------------------------------------------------------------------------------------
class ItemInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000)
    deadline_days = serializers.IntegerField(required=False, min_value=1, max_value=250)
    deadline = serializers.DateField(required=False)


class PersonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=80, required=False, allow_blank=True)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ActionCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActionKind.choices)
    units = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False)
    reasons = serializers.CharField(max_length=5000)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    leads = serializers.ListField(child=serializers.IntegerField(), required=False)
    items = ItemInputSerializer(many=True, required=False)
    persons = PersonInputSerializer(many=True, required=False)
    source = serializers.ChoiceField(
        choices=ActionSource.choices, required=False, default=ActionSource.MANUAL
    )
    dedupe_key = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TransitionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(n, str(s.label)) for n, s in STEPS.items()])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    item = serializers.IntegerField(required=False)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    talk_record = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


class AssessmentFilterSerializer(serializers.Serializer):
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(required=False, min_value=1, max_value=4, help_text=_("1–4"))
    unit = serializers.CharField(required=False)
