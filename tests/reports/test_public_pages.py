"""Public pages: tip form, receipt, follow-up with code + PIN, lockout, typical cases, how to report."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import Tip, TipAttachment, TipMessage, TypicalCase

from .conftest import docx_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db

GOOD = {"description": "有人在高铁站出站口拦截旅客，强拉上黑车，不从就围堵殴打。", "anonymous": "1"}


def _receipt(client):
    page = client.get(reverse("reports:receipt")).content.decode()
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page).group(0)
    pin = re.search(r'<span class="code-display">(\d{6})</span>', page).group(1)
    return code, pin


def test_public_pages_render_for_anonymous_visitors(client, campaign_data):
    for name in ("reports:submit", "reports:howto", "reports:track", "reports:cases"):
        assert client.get(reverse(name)).status_code == 200
    howto = client.get(reverse("reports:howto")).content.decode()
    assert "0391-3568123" in howto  # housing's published hotline
    assert "举报奖励" in howto


def test_anonymous_tip_with_photo_gives_code_and_pin_once(client, campaign_data):
    response = client.post(
        reverse("reports:submit"), {**GOOD, "attachments": [upload("现场.png", png_bytes())]}
    )
    assert response.status_code == 302 and response.url == reverse("reports:receipt")
    code, pin = _receipt(client)
    tip = Tip.objects.get()
    assert tip.tracking_code == code and tip.attachments.get().content_type == "image/png"
    assert pin not in tip.pin_hash
    again = client.get(reverse("reports:receipt"))
    assert again.status_code == 410 and pin not in again.content.decode()


def test_no_client_address_is_stored_with_the_tip(client, campaign_data):
    client.post(reverse("reports:submit"), GOOD, REMOTE_ADDR="203.0.113.77")
    tip = Tip.objects.get()
    stored = " ".join(str(getattr(tip, f.attname)) for f in Tip._meta.concrete_fields)
    stored += " ".join(str(e.data) + e.note for e in tip.events.all())
    assert "203.0.113.77" not in stored


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"description": ""}, "description", "请填写举报内容"),
        ({"description": "很" * 10001}, "description", "举报内容过长"),
        ({"occurred_at": "2999-01-01"}, "occurred_at", "日期不能晚于今天"),
        ({"occurred_at": "昨天"}, "occurred_at", "日期格式"),
        ({"sector": "no_such_sector"}, "sector", "未知的行业领域"),
        ({"region": "atlantis"}, "region", "未知的地区"),
        ({"anonymous": "0", "reporter_phone": "139"}, "reporter_phone", "电话号码格式不正确"),
        ({"anonymous": "0", "reporter_id_number": "410802197805120031"}, "reporter_id_number", "校验位"),
        ({"anonymous": "1", "reporter_name": "张三"}, "anonymous", "您选择了匿名举报"),
    ],
)
def test_bad_input_shows_readable_error_next_to_field_and_keeps_text(
    client, campaign_data, data, field, message
):
    response = client.post(reverse("reports:submit"), {**GOOD, **data})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}-errors"' in page or f"id_{field}" in page
    if data.get("description", GOOD["description"]) == GOOD["description"]:
        assert GOOD["description"] in page  # nothing typed is lost
    assert Tip.objects.count() == 0


def test_refused_file_type_is_named_and_good_uploads_are_kept_for_resubmission(client, campaign_data):
    response = client.post(
        reverse("reports:submit"),
        {
            **GOOD,
            "occurred_at": "2999-01-01",
            "attachments": [
                upload("证据.png", png_bytes()),
                upload("病毒.exe", b"MZ\x90\x00" + b"\x00" * 200),
            ],
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "病毒.exe" in page and "类型不受支持" in page
    assert "证据.png" in page and "已上传" in page  # kept, no need to choose it again
    token = re.search(r'name="upload_token" value="([^"]+)"', page).group(1)
    kept_id = re.search(r'name="keep_files" value="([0-9a-f]{16})"', page).group(1)
    assert Tip.objects.count() == 0 and TipAttachment.objects.count() == 0
    response = client.post(
        reverse("reports:submit"), {**GOOD, "upload_token": token, "keep_files": [kept_id]}
    )
    assert response.status_code == 302
    tip = Tip.objects.get()
    assert [a.original_name for a in tip.attachments.all()] == ["证据.png"]


def test_unticked_kept_file_is_dropped(client, campaign_data):
    page = client.post(
        reverse("reports:submit"), {**GOOD, "description": "", "attachments": [upload("a.png", png_bytes())]}
    ).content.decode()
    token = re.search(r'name="upload_token" value="([^"]+)"', page).group(1)
    client.post(reverse("reports:submit"), {**GOOD, "upload_token": token})
    assert TipAttachment.objects.count() == 0 and Tip.objects.count() == 1


def test_file_too_large_and_too_many_files_are_refused(client, campaign_data, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    big = upload("大文件.png", png_bytes(64, 64) + b"\x00" * 2000)
    page = client.post(reverse("reports:submit"), {**GOOD, "attachments": [big]}).content.decode()
    assert "大文件.png" in page and "太大" in page
    settings.ATTACHMENT_MAX_BYTES = 10**6
    settings.ATTACHMENT_MAX_FILES = 2
    files = [upload(f"{i}.png", png_bytes()) for i in range(3)]
    page = client.post(reverse("reports:submit"), {**GOOD, "attachments": files}).content.decode()
    assert "附件最多 2 个" in page
    assert Tip.objects.count() == 0


def test_office_documents_are_recognised_by_content(client, campaign_data):
    response = client.post(reverse("reports:submit"), {**GOOD, "attachments": [upload("材料", docx_bytes())]})
    assert response.status_code == 302
    attachment = TipAttachment.objects.get()
    assert attachment.original_name == "材料.docx" and "wordprocessingml" in attachment.content_type


def test_oversized_request_is_refused_before_reading(client, campaign_data, settings):
    settings.ATTACHMENT_MAX_TOTAL_BYTES = 1000
    response = client.post(
        reverse("reports:submit"),
        {**GOOD, "attachments": [upload("a.png", b"\x89PNG" + b"\x00" * 3 * 2**20)]},
    )
    assert response.status_code == 413
    assert "提交的内容过大" in response.content.decode()
    assert Tip.objects.count() == 0


def test_honeypot_refuses_bots(client, campaign_data):
    response = client.post(reverse("reports:submit"), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 400
    assert "安全校验" in response.content.decode()
    assert Tip.objects.count() == 0


def test_submission_rate_limit_per_client_says_how_long_to_wait(client, campaign_data, settings):
    settings.TIP_SUBMIT_RATE = (2, 600)
    for _ in range(2):
        assert client.post(reverse("reports:submit"), GOOD).status_code == 302
    response = client.post(reverse("reports:submit"), GOOD)
    assert response.status_code == 429
    assert re.search(r"请 \d+ 分钟后再试", response.content.decode())
    assert Tip.objects.count() == 2
    other = client.post(reverse("reports:submit"), GOOD, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


def test_follow_up_shows_status_timeline_and_office_messages(client, users, campaign_data):
    tip, pin = services.tip_submit(description="<script>alert(1)</script>有人收保护费")
    services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="请补充<b>时间</b>。")
    response = client.post(
        reverse("reports:track"), {"tracking_code": tip.tracking_code.lower().replace("-", " "), "pin": pin}
    )
    assert response.status_code == 302
    page = client.get(reverse("reports:track_detail")).content.decode()
    assert "已收到" in page and "请补充&lt;b&gt;时间&lt;/b&gt;。" in page
    assert "<b>时间</b>" not in page
    response = client.post(reverse("reports:track_detail"), {"body": "大概上个月十五号。"})
    assert response.status_code == 302
    assert TipMessage.objects.filter(tip=tip, direction="from_informant").count() == 1


def test_follow_up_reply_with_bad_input_keeps_text(client, campaign_data):
    tip, pin = services.tip_submit(description="有人收保护费")
    client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin})
    response = client.post(
        reverse("reports:track_detail"),
        {"body": "补充材料", "attachments": [upload("x.exe", b"MZ" + b"\0" * 99)]},
    )
    assert response.status_code == 400
    assert "补充材料" in response.content.decode()
    assert TipMessage.objects.count() == 0


def test_five_wrong_pins_lock_the_code_and_say_how_long(client, campaign_data):
    tip, pin = services.tip_submit(description="有人收保护费")
    wrong = "000000" if pin != "000000" else "111111"
    for attempt in range(4):
        response = client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": wrong})
        assert response.status_code == 400
        assert f"再输错 {4 - attempt} 次" in response.content.decode()
    response = client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": wrong})
    assert response.status_code == 429
    assert re.search(r"请 1[0-9] 分钟后再试", response.content.decode())
    # Locked even with the right PIN, and from another client (the lock is per code as well).
    response = client.post(
        reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin}, REMOTE_ADDR="198.51.100.3"
    )
    assert response.status_code == 429


def test_wrong_pins_on_many_codes_lock_the_client(client, campaign_data):
    codes = [services.tip_submit(description=f"举报{i}")[0].tracking_code for i in range(6)]
    for code in codes[:5]:
        client.post(reverse("reports:track"), {"tracking_code": code, "pin": "999999"})
    tip = Tip.objects.get(tracking_code=codes[5])
    response = client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": "999999"})
    assert response.status_code == 429


def test_follow_up_session_expires_and_can_be_ended(client, campaign_data, settings):
    tip, pin = services.tip_submit(description="有人收保护费")
    client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin})
    client.post(reverse("reports:track_end"))
    assert client.get(reverse("reports:track_detail")).status_code == 302
    settings.TIP_FOLLOWUP_SESSION_SECONDS = -1
    client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin})
    assert client.get(reverse("reports:track_detail")).status_code == 302


def test_informant_downloads_office_attachment_but_not_others(client, users, campaign_data):
    from reports import uploads

    tip, pin = services.tip_submit(description="有人收保护费")
    other, _ = services.tip_submit(description="另一件")
    office_file = uploads.check_upload(upload("领取须知.pdf", b"%PDF-1.4 test"))
    message = services.tip_message_send(
        tip_id=tip.pk, actor=users["office"], body="请阅附件", attachments=[office_file]
    )
    attachment = message.attachments.get()
    assert client.get(reverse("reports:track_attachment", args=[attachment.pk])).status_code == 404
    client.post(reverse("reports:track"), {"tracking_code": other.tracking_code, "pin": "x"})
    client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin})
    response = client.get(reverse("reports:track_attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_reward_notice_appears_on_follow_up(client, users, campaign_data):
    from decimal import Decimal

    tip, pin = services.tip_submit(description="有人收保护费")
    services.tip_record_triage(tip_id=tip.pk, status="registered", actor=users["office"])
    reward = services.reward_propose(
        tip_id=tip.pk,
        actor=users["office"],
        amount=Decimal("2000"),
        basis="general",
        lead_result="substantiated",
    )
    services.reward_decide(reward_id=reward.pk, actor=users["leader"], approve=True)
    client.post(reverse("reports:track"), {"tracking_code": tip.tracking_code, "pin": pin})
    page = client.get(reverse("reports:track_detail")).content.decode()
    assert "您可以领取举报奖励" in page
    assert "2000" not in page  # the amount is settled when claiming, not broadcast


def test_typical_cases_list_only_published(client, users, campaign_data):
    published = services.typical_case_save(actor=users["office"], title="已发布案例", summary="摘要")
    services.typical_case_publish(case_id=published.pk, actor=users["office"], publish=True)
    draft = services.typical_case_save(actor=users["office"], title="草稿案例", summary="摘要")
    page = client.get(reverse("reports:cases")).content.decode()
    assert "已发布案例" in page and "草稿案例" not in page
    assert client.get(reverse("reports:case_detail", args=[draft.pk])).status_code == 404
    assert client.get(reverse("reports:case_detail", args=[published.pk])).status_code == 200
    assert TypicalCase.objects.count() == 2


def test_html_in_description_is_shown_as_text_on_staff_pages(client_as, make_tip):
    tip, _ = make_tip(description='<img src=x onerror="alert(1)">收保护费', accused="<script>x()</script>")
    client = client_as("office")
    for url in (reverse("reports:register"), reverse("reports:tip_detail", args=[tip.pk])):
        page = client.get(url).content.decode()
        assert "<img src=x" not in page and "<script>x()" not in page
        assert "&lt;img src=x" in page or "&lt;img" in page


def test_occurred_date_today_is_accepted(client, campaign_data):
    response = client.post(
        reverse("reports:submit"), {**GOOD, "occurred_at": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    assert Tip.objects.get().occurred_at == timezone.localdate()
    assert Tip.objects.get().received_at > timezone.now() - dt.timedelta(minutes=1)


def test_expired_stash_is_not_offered_again(client, campaign_data, settings):
    page = client.post(
        reverse("reports:submit"), {**GOOD, "description": "", "attachments": [upload("a.png", png_bytes())]}
    ).content.decode()
    token = re.search(r'name="upload_token" value="([^"]+)"', page).group(1)
    kept_id = re.search(r'name="keep_files" value="([0-9a-f]{16})"', page).group(1)
    settings.TIP_UPLOAD_STASH_SECONDS = -1
    response = client.post(
        reverse("reports:submit"), {**GOOD, "upload_token": token, "keep_files": [kept_id]}
    )
    assert response.status_code == 302
    assert TipAttachment.objects.count() == 0


def test_forged_stash_token_and_ids_reach_nothing(client, campaign_data):
    response = client.post(
        reverse("reports:submit"), {**GOOD, "upload_token": "../../etc", "keep_files": ["../passwd"]}
    )
    assert response.status_code == 302
    assert TipAttachment.objects.count() == 0
