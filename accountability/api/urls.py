from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("accountability/actions", views.ActionViewSet, basename="action")
router.register("assessments", views.AssessmentViewSet, basename="assessment")

urlpatterns = [path("", include((router.urls, "accountability-api")))]
