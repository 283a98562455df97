"""The whole URL map, whatever PORTAL_ZONE the test process had when config.urls was first imported."""

from config.urls import all_urlpatterns as urlpatterns  # noqa: F401
