"""Tip API: public intake and follow-up (no login, rate-limited), and the staff tip endpoints."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.permissions import roles_permission
from campaign.audit import client_ip
from campaign.roles import Role

from .. import access, selectors, services, throttle
from ..filters import TipFilter
from ..models import Tip
from ..views.common import locked_message, request_size_limit
from .pagination import TipKeysetPagination
from .serializers import (
    FollowupInputSerializer,
    FollowupOutputSerializer,
    PublicMessageInputSerializer,
    PublicTipInputSerializer,
    ReceiptOutputSerializer,
    RevealInputSerializer,
    RevealOutputSerializer,
    StaffTipDetailOutputSerializer,
    StaffTipInputSerializer,
    StaffTipOutputSerializer,
    reporter_payload,
)


class ReadableJSONParser(JSONParser):
    """Malformed JSON gets a message a person can read."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError:
            raise exceptions.ParseError(
                _("请求内容不是有效的 JSON，请检查格式（引号、逗号、括号是否成对）。")
            )


PARSERS = [ReadableJSONParser, MultiPartParser, FormParser]


def too_large(request) -> Response | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > request_size_limit():
        return Response(
            {
                "detail": _("提交的内容过大：总大小不能超过 %(mb)d MB。")
                % {"mb": request_size_limit() // 2**20}
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return None


def refused(refusal, message: str) -> Response:
    response = Response(
        {"detail": message, "retry_after": refusal.retry_after}, status=status.HTTP_429_TOO_MANY_REQUESTS
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response


def rate_message(refusal) -> str:
    return _("操作过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": refusal.minutes}


def raise_service_errors(exc: DjangoValidationError):
    raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = PARSERS


class PublicTipCreateView(PublicView):
    """Submit a tip (JSON or multipart with `attachments`). Answers after the tip is committed."""

    @extend_schema(request=PublicTipInputSerializer, responses={201: ReceiptOutputSerializer})
    def post(self, request):
        if response := too_large(request):
            return response
        serializer = PublicTipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if refusal := throttle.rate_limit("submit", request):
            return refused(refusal, rate_message(refusal))
        data = serializer.validated_data
        try:
            tip, pin = services.tip_submit(
                description=data["description"],
                sector=data.get("sector"),
                region=data.get("region"),
                location=data["location"],
                accused=data["accused"],
                occurred_at=data["occurred_at"],
                anonymous=data["anonymous"],
                identity=serializer.identity(data),
                attachments=data["attachments"],
            )
        except DjangoValidationError as exc:
            raise_service_errors(exc)
        out = ReceiptOutputSerializer(
            {"tracking_code": tip.tracking_code, "pin": pin, "received_at": tip.received_at}
        )
        return Response(out.data, status=status.HTTP_201_CREATED)


def _authenticate(request, serializer) -> Tip | Response:
    code, pin = serializer.validated_data["tracking_code"], serializer.validated_data["pin"]
    if refusal := throttle.pin_locked(code, request):
        return refused(refusal, locked_message(refusal))
    if refusal := throttle.rate_limit("followup", request):
        return refused(refusal, rate_message(refusal))
    tip = services.tip_authenticate(tracking_code=code, pin=pin)
    if tip is not None:
        throttle.pin_succeeded(code, request)
        return tip
    left, locked = throttle.pin_failed(code, request)
    if locked:
        return refused(locked, locked_message(locked))
    message = _("查询码或查询密码不正确。")
    body = {"detail": message, "errors": {"pin": [message]}}
    if left is not None:
        body["attempts_left"] = left
    return Response(body, status=status.HTTP_403_FORBIDDEN)


def followup_payload(tip: Tip) -> dict:
    reward = selectors.tip_reward_public(tip)
    return {
        "tracking_code": tip.tracking_code,
        "public_status": tip.public_status,
        "get_public_status_display": tip.get_public_status_display(),
        "public_conclusion": tip.public_conclusion,
        "received_at": tip.received_at,
        "timeline": selectors.tip_public_timeline(tip),
        "messages": selectors.tip_messages(tip),
        "reward": {"status": reward.status, "label": reward.get_status_display()} if reward else None,
    }


class PublicTipStatusView(PublicView):
    """Status, public timeline and messages for a tracking code + PIN."""

    @extend_schema(request=FollowupInputSerializer, responses={200: FollowupOutputSerializer})
    def post(self, request):
        serializer = FollowupInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _authenticate(request, serializer)
        if isinstance(result, Response):
            return result
        return Response(FollowupOutputSerializer(followup_payload(result)).data)


class PublicTipMessageView(PublicView):
    """The informant writes to the office."""

    @extend_schema(request=PublicMessageInputSerializer, responses={201: None})
    def post(self, request):
        if response := too_large(request):
            return response
        serializer = PublicMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _authenticate(request, serializer)
        if isinstance(result, Response):
            return result
        try:
            message = services.tip_message_reply(
                tip_id=result.pk,
                body=serializer.validated_data["body"],
                attachments=serializer.validated_data["attachments"],
            )
        except DjangoValidationError as exc:
            raise_service_errors(exc)
        return Response({"id": message.pk, "created_at": message.created_at}, status=status.HTTP_201_CREATED)


# --- staff ---------------------------------------------------------------------------------------
class TipListCreateView(APIView):
    """GET: the register (filters as query parameters, keyset pages). POST: staff entry of a tip."""

    parser_classes = PARSERS

    def get_permissions(self):
        roles = access.ENTRY_ROLES if self.request.method == "POST" else access.REGISTER_ROLES
        return [roles_permission(*roles)()]

    @extend_schema(responses={200: StaffTipOutputSerializer(many=True)})
    def get(self, request):
        base = (
            selectors.tip_list_visible_to(request.user)
            .select_related("sector", "region", "unit")
            .defer("identity_encrypted", "pin_hash", "routing_proposal")
        )
        tip_filter = TipFilter(request.query_params, queryset=base, request=request)
        if not tip_filter.is_valid():
            raise exceptions.ValidationError(tip_filter.errors)
        paginator = TipKeysetPagination()
        page = paginator.paginate_queryset(tip_filter.qs, request, view=self)
        return paginator.get_paginated_response(StaffTipOutputSerializer(page, many=True).data)

    @extend_schema(request=StaffTipInputSerializer, responses={201: None})
    def post(self, request):
        if response := too_large(request):
            return response
        serializer = StaffTipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            tip, pin = services.tip_submit(
                description=data["description"],
                channel=data["channel"],
                sector=data.get("sector"),
                region=data.get("region"),
                location=data["location"],
                accused=data["accused"],
                occurred_at=data["occurred_at"],
                anonymous=data["anonymous"],
                identity=serializer.identity(data),
                attachments=data["attachments"],
                received_at=data["received_at"],
                original_reference=data["original_reference"],
                created_by=request.user,
            )
        except DjangoValidationError as exc:
            raise_service_errors(exc)
        body = StaffTipDetailOutputSerializer(tip).data
        body["pin"] = pin  # shown once, for the office to pass to the informant
        return Response(body, status=status.HTTP_201_CREATED)


def _visible(request, pk: int) -> Tip:
    try:
        return selectors.tip_get_visible(user=request.user, tip_id=pk)
    except Tip.DoesNotExist:
        raise Http404


class TipDetailView(APIView):
    permission_classes = [roles_permission(*access.REGISTER_ROLES)]

    @extend_schema(responses={200: StaffTipDetailOutputSerializer})
    def get(self, request, pk: int):
        return Response(StaffTipDetailOutputSerializer(_visible(request, pk)).data)


class TipRevealView(APIView):
    """Reveal the informant's identity: office staff with the permission, reason required, always logged."""

    permission_classes = [roles_permission(Role.OFFICE)]
    parser_classes = PARSERS

    @extend_schema(request=RevealInputSerializer, responses={200: RevealOutputSerializer})
    def post(self, request, pk: int):
        tip = _visible(request, pk)
        if not access.can_reveal_identity(request.user):
            raise PermissionDenied
        serializer = RevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            identity = services.tip_identity_reveal(
                tip_id=tip.pk,
                actor=request.user,
                reason=serializer.validated_data["reason"],
                ip=client_ip(request),
            )
        except DjangoValidationError as exc:
            raise_service_errors(exc)
        return Response({"tip": tip.pk, "reporter": reporter_payload(tip, identity)})
