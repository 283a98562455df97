"""Accountability API: actions scoped by `action_list_visible_to`, steps through `action_transition`;
assessments scoped by `assessment_list_visible_to`. Leaders read only."""

import datetime as dt

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as route
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from campaign.api.permissions import roles_permission
from campaign.audit import client_ip
from campaign.roles import Role

from ..assessments import period_bounds
from ..models import Action, RectificationItem, RectificationReport
from ..selectors import (
    ACTION_ROLES,
    ASSESSMENT_ROLES,
    action_allowed,
    action_list_visible_to,
    assessment_list_visible_to,
)
from ..services import action_propose, action_transition
from ..workflow import WorkflowError
from .serializers import (
    ActionCreateInputSerializer,
    ActionDetailOutputSerializer,
    ActionListOutputSerializer,
    AssessmentFilterSerializer,
    AssessmentOutputSerializer,
    TransitionInputSerializer,
)

_STATUS_FOR_KIND = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "state": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
}


def _error(exc: WorkflowError) -> Response:
    body = {"detail": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return Response(body, status=_STATUS_FOR_KIND.get(exc.kind, status.HTTP_400_BAD_REQUEST))


def _detail_queryset(qs):
    return qs.select_related("created_by", "issued_by").prefetch_related(
        "units",
        "persons__unit",
        Prefetch(
            "items",
            queryset=RectificationItem.objects.order_by("seq").prefetch_related(
                Prefetch(
                    "reports",
                    queryset=RectificationReport.objects.select_related("unit", "submitted_by", "decided_by")
                    .prefetch_related("evidence")
                    .order_by("submitted_at", "id"),
                )
            ),
        ),
    )


class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accountability actions (通报, 约谈, 督办 …). A unit sees the issued actions against itself;
    the office and leaders see all; only the office creates and moves them (leaders read only)."""

    permission_classes = [roles_permission(*ACTION_ROLES)]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = ActionListOutputSerializer

    def get_queryset(self):
        qs = action_list_visible_to(self.request.user)
        params = self.request.query_params
        for name in ("kind", "status", "source"):
            if params.get(name):
                qs = qs.filter(**{name: params[name]})
        if params.get("unit"):
            qs = qs.filter(units__code=params["unit"]).distinct()
        if params.get("year"):
            try:
                qs = qs.filter(doc_year=int(params["year"]))
            except ValueError:
                raise ValidationError({"year": [_("请输入四位年份。")]})
        if self.action == "retrieve":
            return _detail_queryset(qs)
        return qs.prefetch_related("units").order_by("-created_at", "-id")

    def _detail(self, request, obj, code=status.HTTP_200_OK):
        obj = _detail_queryset(Action.objects.filter(pk=obj.pk)).get()
        allowed = action_allowed(obj, request.user, items=list(obj.items.all()), units=list(obj.units.all()))
        data = ActionDetailOutputSerializer(
            obj, context={"request": request, "allowed_actions": allowed}
        ).data
        return Response(data, status=code)

    @extend_schema(responses=ActionDetailOutputSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._detail(request, self.get_object())

    @extend_schema(request=ActionCreateInputSerializer, responses={201: ActionDetailOutputSerializer})
    def create(self, request):
        """Create a draft action (a proposal for the office to confirm). Office only."""
        if request.user.role != Role.OFFICE:
            return Response(
                {"detail": _("只有市扫黑办工作人员可以发起问责措施。")}, status=status.HTTP_403_FORBIDDEN
            )
        data = ActionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            obj = action_propose(
                kind=v["kind"],
                units=v["units"],
                reasons=v["reasons"],
                title=v.get("title", ""),
                body=v.get("body", ""),
                leads=v.get("leads", []),
                items=v.get("items", []),
                persons=v.get("persons", []),
                source=v.get("source") or "manual",
                dedupe_key=v.get("dedupe_key") or None,
                actor=request.user,
            )
        except WorkflowError as exc:
            return _error(exc)
        return self._detail(request, obj, status.HTTP_201_CREATED)

    @extend_schema(request=TransitionInputSerializer, responses=ActionDetailOutputSerializer)
    @route(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """One workflow step: {"action": "issue" | "dismiss" | "report" | "accept_item" | "reject_item" |
        "record_talk" | "close", "note", "item", "body", "talk_record", "version"}; evidence as multipart."""
        obj = self.get_object()
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        files = request.FILES.getlist("evidence") if hasattr(request, "FILES") else []
        try:
            action_transition(
                action_id=obj.pk,
                step=v.pop("action"),
                actor=request.user,
                note=v.pop("note", ""),
                expected_version=v.pop("version", None),
                evidence=files,
                ip=client_ip(request),
                **{k: val for k, val in v.items() if k != "evidence"},
            )
        except WorkflowError as exc:
            return _error(exc)
        return self._detail(request, obj)


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assessments (考核) per unit and period: leaders and the office see all, a unit its own."""

    permission_classes = [roles_permission(*ASSESSMENT_ROLES)]
    serializer_class = AssessmentOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("period_kind", str, enum=["quarter", "year"]),
            OpenApiParameter("year", int),
            OpenApiParameter("quarter", int),
            OpenApiParameter("unit", str),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = assessment_list_visible_to(self.request.user)
        if self.action != "list":
            return qs
        f = AssessmentFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        v = f.validated_data
        kind = v.get("period_kind")
        if kind:
            qs = qs.filter(period_kind=kind)
        if v.get("year"):
            if v.get("quarter"):
                start, _end = period_bounds("quarter", dt.date(v["year"], v["quarter"] * 3 - 2, 1))
                qs = qs.filter(period_kind="quarter", period_start=start)
            else:
                qs = qs.filter(period_start__year=v["year"])
        if v.get("unit"):
            qs = qs.filter(unit__code=v["unit"])
        return qs.order_by("period_kind", "-period_start", "rank", "unit__sort_order")
