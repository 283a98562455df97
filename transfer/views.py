"""Views of the public node: the signed transfer endpoints the internal side calls, and the public tip
API in its sealed form (same URLs, fields, errors and answers as reports.api on a single installation).
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from reports import throttle
from reports.api import views as reports_api
from reports.api.serializers import (
    FollowupInputSerializer,
    PublicMessageInputSerializer,
    PublicTipInputSerializer,
    ReceiptOutputSerializer,
)
from reports.views.common import locked_message

from . import conf, crypto, keys, public
from .models import PublishedEntry, Receipt, TransferLog

log = logging.getLogger(__name__)
UNAVAILABLE = _lazy("网上举报暂时无法受理，请稍后再试，或拨打举报电话 0391-12337。")

# --- transfer endpoints (called by the internal side only) ---------------------------------------
HANDLERS = {
    "pull": lambda data: public.submissions_collect(limit=data.get("limit"), skip=data.get("skip")),
    "ack": lambda data: {"deleted": public.submissions_ack(ids=list(data.get("ids") or []))},
    "push": lambda data: public.publications_apply(payload=data),
}


def _signed(request_nonce: str, payload: dict, status_code: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status_code, json_dumps_params={"ensure_ascii": False})
    response[crypto.HEADER_SIGNATURE] = crypto.sign_response(
        request_nonce=request_nonce, status=status_code, body=response.content
    )
    return response


def _refuse(action: str, reason: str, status_code: int = 403) -> JsonResponse:
    public.transfer_log(action=TransferLog.Action.REFUSED, ok=False, endpoint=action, reason=reason)
    # Deliberately terse: whoever sent it learns nothing about which check failed.
    return JsonResponse({"detail": "refused"}, status=status_code)


@csrf_exempt
@never_cache
@require_POST
def transfer_endpoint(request, action: str):
    if action not in HANDLERS:
        return JsonResponse({"detail": "not found"}, status=404)
    body = request.body
    if len(body) > conf.get("ZONE_TRANSFER_MAX_BODY"):
        return _refuse(action, "body too large", 413)
    try:
        nonce = crypto.verify_request(
            method=request.method, path=request.path, body=body, headers=request.headers
        )
    except crypto.SignatureError as exc:
        return _refuse(action, str(exc))
    if not public.nonce_use(f"r:{nonce}"):
        return _refuse(action, "replayed nonce", 409)
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return _refuse(action, "malformed JSON", 400)
    result = HANDLERS[action](data)
    counts = {k: (len(v) if isinstance(v, list) else v) for k, v in result.items()}
    public.transfer_log(action=action, **counts)
    if action == "push":
        public.transfer_log_prune()
    return _signed(nonce, result)


# --- the public tip API, sealed ------------------------------------------------------------------
def _authenticate(request, serializer) -> Receipt | Response:
    """reports.api's check, against receipts: same lockouts, same answers."""
    code, pin = serializer.validated_data["tracking_code"], serializer.validated_data["pin"]
    if refusal := throttle.pin_locked(code, request):
        return reports_api.refused(refusal, locked_message(refusal))
    if refusal := throttle.rate_limit("followup", request):
        return reports_api.refused(refusal, reports_api.rate_message(refusal))
    receipt = public.receipt_authenticate(tracking_code=code, pin=pin)
    if receipt is not None:
        throttle.pin_succeeded(code, request)
        return receipt
    left, locked = throttle.pin_failed(code, request)
    if locked:
        return reports_api.refused(locked, locked_message(locked))
    message = _("查询码或查询密码不正确。")
    body = {"detail": message, "errors": {"pin": [message]}}
    if left is not None:
        body["attempts_left"] = left
    return Response(body, status=status.HTTP_403_FORBIDDEN)


def receipt_payload(receipt: Receipt) -> dict:
    """The follow-up answer in the shape of reports.api's FollowupOutputSerializer."""
    messages, timeline = [], []
    for entry in public.receipt_thread(receipt):
        if entry.kind == PublishedEntry.Kind.EVENT:
            timeline.append({"at": timezone.localtime(entry.at), "text": entry.text})
        else:
            direction = (
                "to_informant" if entry.kind == PublishedEntry.Kind.OFFICE_MESSAGE else "from_informant"
            )
            messages.append(
                {
                    "id": entry.pk,
                    "direction": direction,
                    "body": entry.text,
                    "created_at": timezone.localtime(entry.at),
                    "attachments": [],
                }
            )
    labels = dict(Receipt._meta.get_field("public_status").choices)
    reward_labels = {"approved": _("已批准"), "paid": _("已发放")}
    return {
        "tracking_code": receipt.tracking_code,
        "status": receipt.public_status,
        "status_label": str(labels.get(receipt.public_status, receipt.public_status)),
        "conclusion": receipt.public_conclusion,
        "received_at": timezone.localtime(receipt.received_at),
        "timeline": timeline,
        "messages": messages,
        "reward": {
            "status": receipt.reward_status,
            "label": str(reward_labels.get(receipt.reward_status, "")),
        }
        if receipt.reward_status
        else None,
    }


class SealedTipCreateView(reports_api.PublicView):
    """Submit a tip (JSON or multipart with `attachments`): sealed to the internal zone as it arrives."""

    @extend_schema(request=PublicTipInputSerializer, responses={201: ReceiptOutputSerializer})
    def post(self, request):
        if response := reports_api.too_large(request):
            return response
        serializer = PublicTipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if refusal := throttle.rate_limit("submit", request):
            return reports_api.refused(refusal, reports_api.rate_message(refusal))
        data = serializer.validated_data
        try:
            receipt, pin = public.sealed_tip_submit(
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
            reports_api.raise_service_errors(exc)
        except keys.SealingUnavailable:
            log.error("public node has no sealing key: submission refused")
            return Response({"detail": str(UNAVAILABLE)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        out = ReceiptOutputSerializer(
            {"tracking_code": receipt.tracking_code, "pin": pin, "received_at": receipt.received_at}
        )
        return Response(out.data, status=status.HTTP_201_CREATED)


class SealedTipStatusView(reports_api.PublicView):
    """Status, public timeline and the office's messages, as published by the internal side."""

    @extend_schema(request=FollowupInputSerializer, responses={200: None})
    def post(self, request):
        serializer = FollowupInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _authenticate(request, serializer)
        if isinstance(result, Response):
            return result
        return Response(receipt_payload(result))


class SealedTipMessageView(reports_api.PublicView):
    """The informant writes to the office; the reply is sealed like a tip."""

    @extend_schema(request=PublicMessageInputSerializer, responses={201: None})
    def post(self, request):
        if response := reports_api.too_large(request):
            return response
        serializer = PublicMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _authenticate(request, serializer)
        if isinstance(result, Response):
            return result
        try:
            entry = public.sealed_reply_submit(
                receipt_id=result.pk,
                body=serializer.validated_data["body"],
                attachments=serializer.validated_data["attachments"],
            )
        except DjangoValidationError as exc:
            reports_api.raise_service_errors(exc)
        except keys.SealingUnavailable:
            log.error("public node has no sealing key: reply refused")
            return Response({"detail": str(UNAVAILABLE)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(
            {"id": entry.pk, "created_at": timezone.localtime(entry.at)}, status=status.HTTP_201_CREATED
        )
