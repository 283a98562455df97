"""Related items of a tip or lead, and linking/dismissing them. Scoped by the owners' selectors: a tip or
lead the user may not see is the same 404 as one that does not exist."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api.permissions import roles_permission

from .. import access, selectors
from ..services import LinkingError, Ref, link_create, link_dismiss
from .serializers import (
    DismissInputSerializer,
    DismissOutputSerializer,
    LinkInputSerializer,
    LinkOutputSerializer,
    RelatedOutputSerializer,
)

_STATUS = {"invalid": 400, "forbidden": 403, "state": 409}


def _subject(request, kind: str, pk: int):
    if kind == "tip":
        return selectors.tip_for_related(user=request.user, tip_id=pk)
    return selectors.lead_for_related(user=request.user, lead_id=pk)


def _error(exc: LinkingError) -> Response:
    body = {"detail": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return Response(body, status=_STATUS.get(exc.kind, 400))


class RelatedView(APIView):
    """Linked and suggested items (tips, leads, imported cases) with score and reasons."""

    permission_classes = [roles_permission(*access.RELATED_ROLES)]
    kind = "tip"

    @extend_schema(responses=RelatedOutputSerializer)
    def get(self, request, pk: int):
        obj = _subject(request, self.kind, pk)
        if self.kind == "tip":
            related = selectors.related_for_tip(tip=obj, user=request.user)
        else:
            related = selectors.related_for_lead(lead=obj, user=request.user)
        payload = {
            "count": len(related.items),
            "next": None,
            "previous": None,
            "results": related.items,
            "flags": related.flags,
            "hidden": related.hidden,
        }
        return Response(RelatedOutputSerializer(payload).data)


class LinkView(APIView):
    """Join an item to this tip or lead (串并); two tips end up under one lead."""

    permission_classes = [roles_permission(*access.LINK_ROLES)]
    kind = "tip"

    @extend_schema(request=LinkInputSerializer, responses={201: LinkOutputSerializer})
    def post(self, request, pk: int):
        obj = _subject(request, self.kind, pk)
        data = LinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            outcome = link_create(
                actor=request.user,
                source=Ref(self.kind, obj.pk),
                target=Ref(data.validated_data["kind"], data.validated_data["id"]),
                note=data.validated_data["note"],
            )
        except LinkingError as exc:
            return _error(exc)
        body = {
            "link": outcome.link.pk,
            "outcome": outcome.link.outcome,
            "lead": outcome.lead_id,
            "detail": outcome.message,
        }
        return Response(LinkOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class DismissView(APIView):
    """Dismiss a suggestion; it is not suggested again on either item."""

    permission_classes = [roles_permission(*access.LINK_ROLES)]
    kind = "tip"

    @extend_schema(request=DismissInputSerializer, responses={201: DismissOutputSerializer})
    def post(self, request, pk: int):
        obj = _subject(request, self.kind, pk)
        data = DismissInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dismissal = link_dismiss(
                actor=request.user,
                source=Ref(self.kind, obj.pk),
                target=Ref(data.validated_data["kind"], data.validated_data["id"]),
                reason=data.validated_data["reason"],
            )
        except LinkingError as exc:
            return _error(exc)
        body = {"dismissal": dismissal.pk, "detail": _("已排除该建议，以后不再提示。")}
        return Response(DismissOutputSerializer(body).data, status=status.HTTP_201_CREATED)
