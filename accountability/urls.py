from django.urls import path

from . import views

app_name = "accountability"

urlpatterns = [
    path("accountability/", views.action_list, name="actions"),
    path("accountability/proposals/", views.proposal_list, name="proposals"),
    path("accountability/proposals/blind-spot/", views.proposal_blind_spot, name="proposal-blind-spot"),
    path("accountability/new/", views.action_new, name="action-new"),
    path("accountability/<int:pk>/", views.action_detail, name="action-detail"),
    path("accountability/<int:pk>/edit/", views.action_edit, name="action-edit"),
    path("accountability/<int:pk>/document/", views.action_document, name="action-document"),
    path("accountability/<int:pk>/document.pdf", views.action_pdf, name="action-pdf"),
    path("accountability/evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("accountability/rectification/", views.rectification_list, name="rectification"),
    path("accountability/assessments/", views.assessment_list, name="assessments"),
    path("accountability/assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("accountability/backtrack/", views.backtrack_index, name="backtrack"),
    path("accountability/backtrack/lead/<int:pk>/", views.backtrack_lead, name="backtrack-lead"),
    path("accountability/tasks/", views.task_list, name="tasks"),
    path("accountability/tasks/new/", views.task_new, name="task-new"),
    path("accountability/tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("accountability/tasks/attachments/<int:pk>/", views.task_attachment, name="task-attachment"),
]
