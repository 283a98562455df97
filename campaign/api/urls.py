from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet)
router.register("units", views.UnitViewSet)
router.register("sectors", views.SectorViewSet)

urlpatterns = [path("auth/token/", views.TokenView.as_view(), name="api-token"), *router.urls]
