from django.urls import path
from rest_framework.routers import SimpleRouter

from . import notifications, views

router = SimpleRouter()
router.register("regions", views.RegionViewSet)
router.register("units", views.UnitViewSet)
router.register("sectors", views.SectorViewSet)

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("notifications/", notifications.NotificationListView.as_view(), name="api-notifications"),
    path(
        "notifications/unread-count/",
        notifications.NotificationUnreadCountView.as_view(),
        name="api-notifications-unread-count",
    ),
    path(
        "notifications/read-all/",
        notifications.NotificationReadAllView.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notifications.NotificationReadView.as_view(),
        name="api-notification-read",
    ),
    *router.urls,
]
