from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", views.overview, name="overview"),
    path("dashboard/channels/", views.channels, name="channels"),
    path("dashboard/matrix/", views.matrix, name="matrix"),
    path("dashboard/matrix/propose/", views.propose, name="propose"),
    path("dashboard/units/", views.units, name="units"),
    path("dashboard/units/<slug:code>/", views.unit_leads, name="unit"),
    path("dashboard/reports/", views.reports, name="reports"),
    path("dashboard/export/<str:view>.<str:fmt>", views.export_view, name="export-view"),
    path("exports/", views.export_list, name="exports"),
    path("exports/new/", views.export_new, name="export-new"),
    path("exports/<uuid:job_id>/status/", views.export_status, name="export-status"),
    path("exports/<uuid:job_id>/download/", views.export_download, name="export-download"),
]
