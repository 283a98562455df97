"""The URL map a public node builds (tests switch ROOT_URLCONF to it with PORTAL_ZONE=public)."""

from config.urls import all_urlpatterns as _everything
from transfer.zones import select_urlpatterns

urlpatterns = select_urlpatterns(_everything, "public")
