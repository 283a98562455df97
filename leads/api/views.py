"""Lead API: list/detail scoped by `lead_list_visible_to`, workflow actions through `lead_transition`."""

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.permissions import roles_permission
from campaign.models import Region, Sector
from campaign.roles import Role
from reports.models import Tip
from reports.selectors import tip_list_visible_to

from ..filters import LeadFilter
from ..models import LeadSource, ReportBack
from ..practice import callback_record
from ..routing import routing_propose_for_lead, routing_propose_for_tip
from ..selectors import (
    LIGHTS,
    callback_list,
    can_see_findings,
    lead_get_visible,
    lead_list_visible_to,
    lead_list_with_related,
    lead_signoffs,
    lead_timeline,
    light_q,
    source_counts,
    status_counts,
)
from ..services import TRIAGE_ROLES, lead_register, lead_transition, tip_triage
from ..workflow import TransitionError, VersionConflict
from .serializers import (
    CallBackOutputSerializer,
    CallBackRecordInputSerializer,
    LeadCreateInputSerializer,
    LeadEventOutputSerializer,
    LeadOutputSerializer,
    LeadTransitionInputSerializer,
    ProposalOutputSerializer,
    ReportBackOutputSerializer,
    SignOffOutputSerializer,
    TipTriageInputSerializer,
    serializer_context,
)

STAFF_READ_ROLES = tuple(Role.values)
REGISTER_ROLES = (Role.OFFICE, Role.POLICE)

_STATUS_FOR_KIND = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "state": status.HTTP_409_CONFLICT,
}


def _current(request, lead_id: int) -> dict | None:
    try:
        lead = lead_get_visible(request.user, lead_id)
    except Http404:
        return None
    return LeadOutputSerializer(lead, context=serializer_context(request)).data


def transition_error_response(request, exc: Exception, lead_id: int | None) -> Response:
    """Readable refusals: 400 bad input (with field errors), 403 role, 409 state or stale version + current lead."""
    if isinstance(exc, VersionConflict):
        body = {"detail": exc.message, "current_version": exc.lead.version}
        code = status.HTTP_409_CONFLICT
    else:
        body = {"detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        code = _STATUS_FOR_KIND.get(exc.kind, status.HTTP_400_BAD_REQUEST)
    if code == status.HTTP_409_CONFLICT and lead_id is not None:
        body["lead"] = _current(request, lead_id)
    return Response(body, status=code)


def _by_code(model, code, field: str):
    if code in (None, ""):
        return None
    obj = model.objects.filter(code=code).first()
    if obj is None:
        raise ValidationError({field: [_("“%(code)s”不存在。") % {"code": code}]})
    return obj


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Leads visible to the requesting user; `allowed_actions` says what they may do now."""

    permission_classes = [roles_permission(*STAFF_READ_ROLES)]
    serializer_class = LeadOutputSerializer
    filterset_class = LeadFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return lead_list_with_related(lead_list_visible_to(self.request.user)).order_by("-created_at", "-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **serializer_context(self.request)}

    @extend_schema(request=LeadCreateInputSerializer, responses={201: LeadOutputSerializer})
    def create(self, request):
        """Register a lead directly (police unified acceptance, office), optionally from tips and assigned at once."""
        if request.user.role not in REGISTER_ROLES:
            return Response(
                {"detail": _("%(role)s无权执行“受理登记”。") % {"role": request.user.role_label}},
                status=status.HTTP_403_FORBIDDEN,
            )
        data = LeadCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            lead = lead_register(
                actor=request.user,
                sector=_by_code(Sector, v["sector"], "sector"),
                region=_by_code(Region, v["region"], "region"),
                summary=v["summary"],
                accused=v["accused"],
                priority=v["priority"],
                source=_by_code(LeadSource, v["source"], "source"),
                origin_reference=v["origin_reference"],
                restricted=v["restricted"],
                tip_ids=v["tips"],
                units=v["units"],
                days=v.get("days"),
                note=v["note"],
            )
        except TransitionError as exc:
            return transition_error_response(request, exc, None)
        lead = lead_get_visible(request.user, lead.pk)
        return Response(LeadOutputSerializer(lead, context=serializer_context(request)).data, status=201)

    @extend_schema(request=LeadTransitionInputSerializer, responses={200: LeadOutputSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Apply one workflow action. Send the `version` you saw: a stale one gets 409 and the current lead."""
        lead = lead_get_visible(request.user, pk)
        payload = LeadTransitionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        name = fields.pop("action")
        note = fields.pop("note", "")
        version = fields.pop("version", None)
        if "attachments" in request.FILES:
            fields["attachments"] = request.FILES.getlist("attachments")
        try:
            lead_transition(
                lead_id=lead.pk,
                action=name,
                actor=request.user,
                note=note,
                expected_version=version,
                **fields,
            )
        except (TransitionError, VersionConflict) as exc:
            return transition_error_response(request, exc, lead.pk)
        try:
            fresh = lead_get_visible(request.user, lead.pk)
        except Http404:
            return Response({"detail": _("操作已完成。"), "id": lead.pk})
        return Response(LeadOutputSerializer(fresh, context=serializer_context(request)).data)

    @extend_schema(responses={200: LeadEventOutputSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """Every step of the lead: who, when, from, to, note."""
        lead = lead_get_visible(request.user, pk)
        events = lead_timeline(lead)
        page = self.paginate_queryset(events)
        data = LeadEventOutputSerializer(page, many=True, context=serializer_context(request)).data
        return self.get_paginated_response(data)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def counts(self, request):
        """Counts of the leads the filters select (only those the user may see): by source (线索来源),
        by traffic light (红黄灯, open leads) and by status."""
        qs = self.filter_queryset(lead_list_visible_to(request.user))
        now = timezone.now()
        open_qs = qs.exclude(status="closed")
        return Response(
            {
                "total": qs.count(),
                "by_source": source_counts(qs),
                "by_light": {light: open_qs.filter(light_q(light, now)).count() for light in LIGHTS},
                "by_status": status_counts(qs),
            }
        )

    @extend_schema(responses={200: SignOffOutputSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def signoffs(self, request, pk=None):
        """签字背书: who signed what and when (unit heads on results, office leaders on closures)."""
        lead = lead_get_visible(request.user, pk)
        return Response(SignOffOutputSerializer(lead_signoffs(lead), many=True).data)

    @extend_schema(responses={200: ReportBackOutputSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="report-backs")
    def report_backs(self, request, pk=None):
        """回告: first, stage and final report-backs of the units whose findings the user may read."""
        lead = lead_get_visible(request.user, pk)
        rows = (
            ReportBack.objects.filter(lead=lead)
            .select_related("assignment__unit", "created_by", "event")
            .prefetch_related("event__attachments")
            .order_by("created_at", "id")
        )
        rows = [r for r in rows if can_see_findings(request.user, r.assignment)]
        return Response(ReportBackOutputSerializer(rows, many=True).data)

    @extend_schema(responses={200: ProposalOutputSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def routing(self, request, pk=None):
        """The routing proposal for this lead's sector, region and text, with the reasons."""
        lead = lead_get_visible(request.user, pk)
        return Response([p.as_dict() for p in routing_propose_for_lead(lead)])


class CallBackViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """回访: the monthly call-back sample (?month=YYYY-MM&status=pending), and recording an outcome."""

    permission_classes = [roles_permission(Role.OFFICE)]
    serializer_class = CallBackOutputSerializer

    def get_queryset(self):
        month = None
        raw = self.request.query_params.get("month", "")
        if raw:
            try:
                month = dt.datetime.strptime(raw, "%Y-%m").date()
            except ValueError:
                raise ValidationError({"month": [_("月份格式应为 YYYY-MM。")]}) from None
        status_value = self.request.query_params.get("status", "")
        return callback_list(self.request.user, month=month, status=status_value)

    @extend_schema(request=CallBackRecordInputSerializer, responses={200: CallBackOutputSerializer})
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Record the call: reached (满意 / 基本满意 / 不满意 with notes) or unreachable."""
        if not str(pk).isdigit() or not callback_list(request.user).filter(pk=pk).exists():
            raise Http404
        payload = CallBackRecordInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            callback = callback_record(callback_id=int(pk), actor=request.user, **payload.validated_data)
        except TransitionError as exc:
            return transition_error_response(request, exc, None)
        return Response(CallBackOutputSerializer(callback).data)


def _tip_for_triage(request, pk) -> Tip:
    """A tip the user may see (one behind a restricted lead outside their circle is a 404, as if missing)."""
    return get_object_or_404(
        tip_list_visible_to(request.user).select_related("sector", "sector__lead_unit", "region"), pk=pk
    )


class TipTriageView(APIView):
    """POST /api/v1/tips/{id}/triage/: register as a lead, merge into a lead, mark duplicate, or reject."""

    permission_classes = [roles_permission(*TRIAGE_ROLES)]

    @extend_schema(request=TipTriageInputSerializer, responses={200: dict})
    def post(self, request, pk):
        tip = _tip_for_triage(request, pk)
        payload = TipTriageInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        v = payload.validated_data
        extra = {}
        if v["action"] == "register":
            units = v.get("units")
            reasons = None
            if not units and v["use_proposal"]:
                proposals = routing_propose_for_tip(tip)
                units = [p.unit.code for p in proposals]
                reasons = {p.unit.code: p.reason for p in proposals}
            extra = {
                "sector": _by_code(Sector, v.get("sector"), "sector"),
                "region": _by_code(Region, v.get("region"), "region"),
                "summary": v.get("summary") or None,
                "accused": v.get("accused"),
                "priority": v["priority"],
                "source": _by_code(LeadSource, v["source"], "source"),
                "restricted": v["restricted"],
                "units": units or [],
                "days": v.get("days"),
                "reasons": reasons,
            }
        try:
            with transaction.atomic():
                outcome = tip_triage(
                    tip_id=tip.pk,
                    action=v["action"],
                    actor=request.user,
                    note=v["note"],
                    lead_id=v.get("lead"),
                    duplicate_of_id=v.get("duplicate_of"),
                    expected_version=v.get("lead_version"),
                    **extra,
                )
        except (TransitionError, VersionConflict) as exc:
            return transition_error_response(request, exc, v.get("lead"))
        body = {
            "tip": {
                "id": outcome.tip.pk,
                "tracking_code": outcome.tip.tracking_code,
                "status": outcome.tip.status,
                "public_status": outcome.tip.public_status,
            },
            "lead": None,
        }
        if outcome.lead is not None:
            lead = lead_get_visible(request.user, outcome.lead.pk)
            body["lead"] = LeadOutputSerializer(lead, context=serializer_context(request)).data
        return Response(body, status=status.HTTP_200_OK)


class TipRoutingView(APIView):
    """GET /api/v1/tips/{id}/routing/: the units proposed for a tip and why."""

    permission_classes = [roles_permission(*TRIAGE_ROLES)]

    @extend_schema(responses={200: ProposalOutputSerializer(many=True)})
    def get(self, request, pk):
        tip = _tip_for_triage(request, pk)
        return Response([p.as_dict() for p in routing_propose_for_tip(tip)])
