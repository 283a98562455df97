from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign import security
from campaign.audit import audit_record
from campaign.models import Region, Sector, Unit

from . import serializers


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked"

    def __init__(self, locked: security.LockedOut):
        super().__init__(detail=locked.message)
        self.wait = locked.seconds  # DRF's handler turns it into Retry-After


class TokenView(APIView):
    """Exchange username and password (and a one-time code where two-factor login is required) for a token."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_scope = "token"

    @extend_schema(
        request=serializers.TokenRequestSerializer,
        responses={
            200: serializers.TokenResponseSerializer,
            400: OpenApiTypes.OBJECT,
            429: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request):
        data = serializers.TokenRequestSerializer(data=request.data, context={"request": request})
        try:
            data.is_valid(raise_exception=True)
        except security.LockedOut as locked:
            raise AccountLocked(locked)
        user = data.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        audit_record(actor=user, action="auth.token", target=user, ip=security.client_ip(request))
        return Response({"token": token.key})


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.select_related("parent")
    serializer_class = serializers.RegionSerializer
    lookup_field = "code"
    filterset_fields = ["level"]


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Unit.objects.select_related("region").filter(is_active=True)
    serializer_class = serializers.UnitSerializer
    lookup_field = "code"
    filterset_fields = ["kind"]


class SectorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Sector.objects.select_related("lead_unit")
    serializer_class = serializers.SectorSerializer
    lookup_field = "code"
