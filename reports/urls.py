from django.urls import path

from .views import public, staff

app_name = "reports"

urlpatterns = [
    # public
    path("report/", public.submit, name="submit"),
    path("report/receipt/", public.receipt, name="receipt"),
    path("report/how/", public.howto, name="howto"),
    path("track/", public.track, name="track"),
    path("track/tip/", public.track_detail, name="track_detail"),
    path("track/end/", public.track_end, name="track_end"),
    path("track/files/<int:attachment_id>/", public.track_attachment, name="track_attachment"),
    path("cases/", public.cases, name="cases"),
    path("cases/<int:case_id>/", public.case_detail, name="case_detail"),
    # staff
    path("tips/", staff.register, name="register"),
    path("tips/new/", staff.entry, name="entry"),
    path("tips/<int:tip_id>/", staff.tip_detail, name="tip_detail"),
    path("tips/<int:tip_id>/receipt/", staff.entry_receipt, name="entry_receipt"),
    path("tips/<int:tip_id>/reveal/", staff.tip_reveal, name="tip_reveal"),
    path("tips/<int:tip_id>/messages/", staff.tip_message, name="tip_message"),
    path("tips/<int:tip_id>/reward/", staff.reward_propose, name="reward_propose"),
    path("tips/files/<int:attachment_id>/", staff.attachment_download, name="attachment_download"),
    path("rewards/", staff.rewards, name="rewards"),
    path("rewards/<int:reward_id>/", staff.reward_detail, name="reward_detail"),
    path("rewards/<int:reward_id>/decide/", staff.reward_decide, name="reward_decide"),
    path("rewards/<int:reward_id>/pay/", staff.reward_pay, name="reward_pay"),
    path("publicity/", staff.publicity, name="publicity"),
    path("cases/manage/", staff.cases_manage, name="cases_manage"),
    path("cases/manage/new/", staff.case_edit, name="case_new"),
    path("cases/manage/<int:case_id>/", staff.case_edit, name="case_edit"),
    path("cases/manage/<int:case_id>/publish/", staff.case_publish, name="case_publish"),
]
