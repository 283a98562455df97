from django.urls import path

from . import views

urlpatterns = [
    path("tips/<int:pk>/related/", views.RelatedView.as_view(kind="tip"), name="tip-related"),
    path("tips/<int:pk>/related/link/", views.LinkView.as_view(kind="tip"), name="tip-related-link"),
    path("tips/<int:pk>/related/dismiss/", views.DismissView.as_view(kind="tip"), name="tip-related-dismiss"),
    path("leads/<int:pk>/related/", views.RelatedView.as_view(kind="lead"), name="lead-related"),
    path("leads/<int:pk>/related/link/", views.LinkView.as_view(kind="lead"), name="lead-related-link"),
    path(
        "leads/<int:pk>/related/dismiss/", views.DismissView.as_view(kind="lead"), name="lead-related-dismiss"
    ),
]
