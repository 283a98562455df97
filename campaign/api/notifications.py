"""Notification API: a user lists and reads only their own notifications (others' ids are 404)."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.models import Notification
from campaign.notifications import (
    notification_list_for,
    notification_mark_all_read,
    notification_mark_read,
    notification_unread_count,
)


class NotificationOutputSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField(label=_("已读"))

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


@extend_schema(
    parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="只看未读 / unread only")],
)
class NotificationListView(generics.ListAPIView):
    """My notifications, unread first (paginated)."""

    serializer_class = NotificationOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        unread_only = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return notification_list_for(self.request.user, unread_only=unread_only)


class NotificationReadView(APIView):
    """Mark one of my notifications read."""

    @extend_schema(request=None, responses=NotificationOutputSerializer)
    def post(self, request, pk: int):
        try:
            notification = notification_mark_read(user=request.user, notification_id=pk)
        except Notification.DoesNotExist:
            raise Http404
        return Response(NotificationOutputSerializer(notification).data)


class NotificationReadAllView(APIView):
    """Mark all my notifications read."""

    @extend_schema(request=None, responses=MarkedSerializer)
    def post(self, request):
        return Response({"marked": notification_mark_all_read(user=request.user)})


class NotificationUnreadCountView(APIView):
    """How many of my notifications are unread (for the badge)."""

    @extend_schema(responses=UnreadCountSerializer)
    def get(self, request):
        return Response({"unread": notification_unread_count(request.user)})
