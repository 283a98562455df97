from django.urls import path

from . import views

urlpatterns = [
    path("public/tips/", views.PublicTipCreateView.as_view(), name="public-tip-create"),
    path("public/tips/status/", views.PublicTipStatusView.as_view(), name="public-tip-status"),
    path("public/tips/messages/", views.PublicTipMessageView.as_view(), name="public-tip-messages"),
    path("tips/", views.TipListCreateView.as_view(), name="tip-list"),
    path("tips/<int:pk>/", views.TipDetailView.as_view(), name="tip-detail"),
    path("tips/<int:pk>/reveal-reporter/", views.TipRevealView.as_view(), name="tip-reveal-reporter"),
]
