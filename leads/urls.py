from django.urls import path

from . import practice_views, views

app_name = "leads"

urlpatterns = [
    path("leads/", views.lead_list, name="list"),
    path("leads/new/", views.lead_new, name="new"),
    path("leads/export/", practice_views.lead_export, name="export"),
    path("leads/workspace/", views.workspace, name="workspace"),
    path("leads/due/", views.unit_due, name="unit_due"),
    path("leads/signoffs/", practice_views.signoff_queue, name="signoffs"),
    path("leads/review/", views.review, name="review"),
    path("leads/reviews/", practice_views.review_list, name="reviews"),
    path("leads/callbacks/", practice_views.callbacks, name="callbacks"),
    path("leads/referred/", views.referred, name="referred"),
    path("leads/triage/", views.triage, name="triage"),
    path("leads/triage/<int:tip_id>/", views.triage_tip, name="triage_tip"),
    path("leads/<int:pk>/", views.lead_detail, name="detail"),
    path("leads/<int:pk>/print/", practice_views.lead_print, name="print"),
    path("leads/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
