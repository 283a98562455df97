from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("callbacks", views.CallBackViewSet, basename="callback")

urlpatterns = [
    path("tips/<int:pk>/triage/", views.TipTriageView.as_view(), name="tip-triage"),
    path("tips/<int:pk>/routing/", views.TipRoutingView.as_view(), name="tip-routing"),
    *router.urls,
]
