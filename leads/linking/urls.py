from django.urls import path

from . import views

app_name = "linking"

urlpatterns = [
    # The related panel (htmx fragment, or a full page) of a tip and of a lead; link and dismiss.
    path("linking/tips/<int:pk>/related/", views.related, {"kind": "tip"}, name="tip_related"),
    path("linking/tips/<int:pk>/related/link/", views.link, {"kind": "tip"}, name="tip_link"),
    path("linking/tips/<int:pk>/related/dismiss/", views.dismiss, {"kind": "tip"}, name="tip_dismiss"),
    path(
        "linking/tips/<int:pk>/related/dismissals/<int:dismissal_id>/revoke/",
        views.dismissal_revoke,
        {"kind": "tip"},
        name="tip_dismissal_revoke",
    ),
    path("linking/leads/<int:pk>/related/", views.related, {"kind": "lead"}, name="lead_related"),
    path("linking/leads/<int:pk>/related/link/", views.link, {"kind": "lead"}, name="lead_link"),
    path("linking/leads/<int:pk>/related/dismiss/", views.dismiss, {"kind": "lead"}, name="lead_dismiss"),
    path(
        "linking/leads/<int:pk>/related/dismissals/<int:dismissal_id>/revoke/",
        views.dismissal_revoke,
        {"kind": "lead"},
        name="lead_dismissal_revoke",
    ),
    path("linking/leads/<int:pk>/graph/", views.lead_graph, name="lead_graph"),
    # Key monitoring, repeat targets, entities.
    path("linking/watch/", views.watch, name="watch"),
    path("linking/watch/<int:pk>/", views.watch_detail, name="watch_detail"),
    path("linking/watch/<int:pk>/lift/", views.watch_lift, name="watch_lift"),
    path("linking/repeat/", views.repeat, name="repeat"),
    path("linking/entities/<int:pk>/", views.entity_detail, name="entity"),
    # Imported cases.
    path("linking/cases/", views.cases, name="cases"),
    path("linking/cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("linking/imports/", views.imports_list, name="imports"),
    path("linking/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("linking/imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("linking/imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("linking/imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
]
