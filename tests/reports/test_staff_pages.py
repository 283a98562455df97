"""Staff pages: register, entry, tip page (reveal, messages, downloads), rewards, publicity, cases."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaign.models import AuditEntry, PublicityActivity
from reports import services, uploads
from reports.models import IdentityReveal, Reward, Tip, TipMessage, TipStatus, TypicalCase

from .conftest import NAMED, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("office", 200),
        ("police", 200),
        ("leader", 200),
        ("liaison_housing", 200),
        ("discipline", 403),
        ("admin", 403),
    ],
)
def test_register_access_by_role(client_as, username, status):
    assert client_as(username).get(reverse("reports:register")).status_code == status


def test_register_requires_login(client, campaign_data):
    response = client.get(reverse("reports:register"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_register_filters_search_and_sort(client_as, make_tip, sectors, regions):
    make_tip(
        description="工地强揽土方，殴打司机。", sector=sectors["construction"], region=regions["jiefang"]
    )
    make_tip(
        description="放高利贷暴力催收。",
        sector=sectors["lending"],
        region=regions["wuzhi"],
        accused="某信息咨询公司",
    )
    client = client_as("office")
    page = client.get(reverse("reports:register"), {"sector": "lending"}).content.decode()
    assert "放高利贷" in page and "强揽土方" not in page
    page = client.get(reverse("reports:register"), {"q": "咨询公司"}).content.decode()
    assert "放高利贷" in page and "强揽土方" not in page
    page = client.get(reverse("reports:register"), {"q": "土方"}).content.decode()  # two characters
    assert "强揽土方" in page and "放高利贷" not in page
    make_tip(description="车牌豫H·AB123的渣土车天天超载。")
    page = client.get(reverse("reports:register"), {"q": "ab123"}).content.decode()  # Latin: any case
    assert "豫H·AB123" in page
    page = client.get(
        reverse("reports:register"), {"region": "jiefang", "channel": "online"}
    ).content.decode()
    assert "强揽土方" in page and "放高利贷" not in page
    today = timezone.localdate().isoformat()
    page = client.get(
        reverse("reports:register"), {"received_from": today, "received_to": today}
    ).content.decode()
    assert "强揽土方" in page and "放高利贷" in page
    page = client.get(reverse("reports:register"), {"sort": "received_at"}).content.decode()
    assert page.index("强揽土方") < page.index("放高利贷")
    page = client.get(reverse("reports:register"), {"sector": "nonexistent"}).content.decode()
    assert "没有符合条件的举报" in page


def test_register_keyset_pages_walk_forward_and_back(client_as, make_tip):
    ids = [make_tip(description=f"举报第{i}件")[0].pk for i in range(5)]
    base = timezone.now() - dt.timedelta(days=1)
    for n, pk in enumerate(ids):
        Tip.objects.filter(pk=pk).update(received_at=base + dt.timedelta(minutes=n))
    from reports import selectors

    qs = Tip.objects.all()
    first = selectors.tip_page(qs, size=2)
    assert [t.pk for t in first["items"]] == [ids[4], ids[3]] and first["previous"] is None
    second = selectors.tip_page(qs, size=2, cursor=first["next"])
    assert [t.pk for t in second["items"]] == [ids[2], ids[1]]
    third = selectors.tip_page(qs, size=2, cursor=second["next"])
    assert [t.pk for t in third["items"]] == [ids[0]] and third["next"] is None
    back = selectors.tip_page(qs, size=2, cursor=third["previous"])
    assert [t.pk for t in back["items"]] == [ids[2], ids[1]]
    assert selectors.tip_page(qs, size=2, cursor="garbage")["items"][0].pk == ids[4]


def test_search_windows_give_the_same_pages_as_a_plain_scan(client_as, make_tip):
    # tip_page(windows=...) looks at recent days first; pages must be exactly those of the full scan,
    # whether a window holds a full page, only part of one, or nothing.
    now = timezone.now()
    ages = [0, 1, 2, 40, 41, 200, 201, 202, 700]  # days
    ids = [make_tip(description=f"高利贷第{i}件")[0].pk for i in range(len(ages))]
    for pk, days in zip(ids, ages, strict=True):
        Tip.objects.filter(pk=pk).update(received_at=now - dt.timedelta(days=days))
    from reports import selectors

    qs = Tip.objects.all()
    windows = (dt.timedelta(days=30), dt.timedelta(days=180))
    for size in (2, 3, 4, 20):
        plain, windowed = (
            selectors.tip_page(qs, size=size),
            selectors.tip_page(qs, size=size, windows=windows),
        )
        while True:
            assert [t.pk for t in windowed["items"]] == [t.pk for t in plain["items"]]
            assert (windowed["next"] is None) == (plain["next"] is None)
            if plain["next"] is None:
                break
            plain = selectors.tip_page(qs, size=size, cursor=plain["next"])
            windowed = selectors.tip_page(qs, size=size, cursor=windowed["next"], windows=windows)


def test_register_page_query_budget(client_as, make_tip, sectors, django_assert_max_num_queries):
    for i in range(40):
        make_tip(description=f"举报{i}", sector=sectors["markets"])
    client = client_as("office")
    client.get(reverse("reports:register"))  # warm the session
    with django_assert_max_num_queries(18):
        response = client.get(reverse("reports:register"))
    assert response.status_code == 200


def test_liaison_register_and_tip_page_are_scoped_to_unit(client_as, users, make_tip, units):
    mine, _ = make_tip(description="住建领域的举报")
    other, _ = make_tip(description="交通领域的举报")
    services.tip_record_triage(
        tip_id=mine.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["housing"]
    )
    services.tip_record_triage(
        tip_id=other.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["transport"]
    )
    client = client_as("liaison_housing")
    page = client.get(reverse("reports:register")).content.decode()
    assert "住建领域的举报" in page and "交通领域的举报" not in page
    assert client.get(reverse("reports:tip_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("reports:tip_detail", args=[other.pk])).status_code == 404


def test_staff_entry_creates_tip_and_shows_pin_once(client_as, users):
    client = client_as("police")
    response = client.post(
        reverse("reports:entry"),
        {
            "channel": "letter",
            "received_at": (timezone.localtime() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "original_reference": "来信〔2026〕3号",
            "description": "来信反映某市场有人强收摊位费。",
            "anonymous": "0",
            "reporter_name": "王秀兰",
            "reporter_phone": "15639101122",
            "attachments": [upload("来信.pdf", pdf_bytes())],
        },
    )
    assert response.status_code == 302
    tip = Tip.objects.get()
    assert tip.channel == "letter" and tip.created_by == users["police"] and tip.attachments.count() == 1
    page = client.get(response.url).content.decode()
    assert tip.tracking_code in page and re.search(r'code-display">\d{6}<', page)
    again = client.get(response.url).content.decode()
    assert not re.search(r'code-display">\d{6}<', again)


def test_staff_entry_bad_input_keeps_scan_and_text(client_as):
    client = client_as("office")
    response = client.post(
        reverse("reports:entry"),
        {
            "channel": "phone",
            "received_at": (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "description": "来电反映有人收过路费。",
            "anonymous": "1",
            "attachments": [upload("录音记录.pdf", pdf_bytes())],
        },
    )
    page = response.content.decode()
    assert response.status_code == 400 and "时间不能晚于现在" in page
    assert "来电反映有人收过路费。" in page and "录音记录.pdf" in page
    assert Tip.objects.count() == 0
    assert client_as("leader").get(reverse("reports:entry")).status_code == 403


def test_tip_page_masks_identity_and_reveal_shows_it_once_and_logs(client_as, reveal_users, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    client = client_as("office")
    page = client.get(reverse("reports:tip_detail", args=[tip.pk])).content.decode()
    assert "139****1234" in page and "13903911234" not in page and "查看身份信息" in page
    refused = client.post(reverse("reports:tip_reveal", args=[tip.pk]), {"reason": ""})
    assert refused.status_code == 400 and "请填写查看举报人身份的事由" in refused.content.decode()
    assert IdentityReveal.objects.count() == 0
    shown = client.post(reverse("reports:tip_reveal", args=[tip.pk]), {"reason": "需电话联系核实情况"})
    assert shown.status_code == 200
    assert "13903911234" in shown.content.decode() and "41080219780512003X" in shown.content.decode()
    assert AuditEntry.objects.filter(action="tip.identity_reveal").count() == 1
    page = client.get(reverse("reports:tip_detail", args=[tip.pk])).content.decode()
    assert "13903911234" not in page and "需电话联系核实情况" in page  # the log shows on the tip page


def test_reveal_is_refused_without_permission(client_as, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    client = client_as("office")  # no permission granted in this test
    assert "查看身份信息" not in client.get(reverse("reports:tip_detail", args=[tip.pk])).content.decode()
    assert client.post(reverse("reports:tip_reveal", args=[tip.pk]), {"reason": "想看看"}).status_code == 403
    assert (
        client_as("police")
        .post(reverse("reports:tip_reveal", args=[tip.pk]), {"reason": "想看看"})
        .status_code
        == 403
    )
    assert IdentityReveal.objects.count() == 0


def test_office_messages_informant_with_attachment(client_as, make_tip):
    tip, _ = make_tip()
    client = client_as("office")
    response = client.post(
        reverse("reports:tip_message", args=[tip.pk]),
        {"body": "请补充时间和地点。", "attachments": [upload("说明.pdf", pdf_bytes())]},
    )
    assert response.status_code == 302
    message = TipMessage.objects.get()
    assert message.direction == "to_informant" and message.attachments.count() == 1
    empty = client.post(reverse("reports:tip_message", args=[tip.pk]), {"body": ""})
    assert empty.status_code == 400 and "请填写留言内容" in empty.content.decode()
    assert (
        client_as("liaison_housing")
        .post(reverse("reports:tip_message", args=[tip.pk]), {"body": "x"})
        .status_code
        == 403
    )


def test_opening_tip_page_marks_replies_read(client_as, make_tip):
    tip, _ = make_tip()
    services.tip_message_reply(tip_id=tip.pk, body="补充")
    client_as("office").get(reverse("reports:tip_detail", args=[tip.pk]))
    tip.refresh_from_db()
    assert tip.unread_replies == 0


def test_attachment_download_is_scoped_forced_download_and_audited(client_as, users, make_tip, units):
    tip, _ = make_tip(attachments=[uploads.check_upload(upload("<b>照片</b>.png", png_bytes()))])
    attachment = tip.attachments.get()
    url = reverse("reports:attachment_download", args=[attachment.pk])
    response = client_as("office").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert (
        AuditEntry.objects.filter(action="tip.attachment_download", target_id=str(attachment.pk)).count() == 1
    )
    assert client_as("liaison_housing").get(url).status_code == 404
    services.tip_record_triage(
        tip_id=tip.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["housing"]
    )
    assert client_as("liaison_housing").get(url).status_code == 200
    assert client_as("discipline").get(url).status_code == 403


def test_attachments_are_stored_outside_static_root_under_random_names(settings, make_tip):
    tip, _ = make_tip(attachments=[uploads.check_upload(upload("举报人张三的照片.png", png_bytes()))])
    attachment = tip.attachments.get()
    assert "张三" not in attachment.file.name
    assert str(settings.MEDIA_ROOT) in attachment.file.path
    assert not attachment.file.path.startswith(str(settings.STATIC_ROOT))


def test_reward_pages_flow(client_as, users, make_tip):
    tip, _ = make_tip()
    services.tip_record_triage(tip_id=tip.pk, status=TipStatus.REGISTERED, actor=users["office"])
    office = client_as("office")
    bad = office.post(
        reverse("reports:reward_propose", args=[tip.pk]),
        {"amount": "-5", "basis": "general", "lead_result": "substantiated"},
    )
    assert bad.status_code == 400 and "奖励金额应大于 0" in bad.content.decode()
    response = office.post(
        reverse("reports:reward_propose", args=[tip.pk]),
        {"amount": "3000", "basis": "general", "lead_result": "substantiated"},
    )
    assert response.status_code == 302
    reward = Reward.objects.get()
    leader = client_as("leader")
    assert leader.get(reverse("reports:rewards")).status_code == 200
    assert (
        leader.post(reverse("reports:reward_decide", args=[reward.pk]), {"decision": "approve"}).status_code
        == 302
    )
    office = client_as("office")
    response = office.post(
        reverse("reports:reward_pay", args=[reward.pk]),
        {"paid_on": timezone.localdate().isoformat(), "payment_method": "bank", "payment_reference": "PZ-1"},
    )
    assert response.status_code == 302
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PAID and reward.amount == Decimal("3000")
    for username in ("police", "liaison_housing", "discipline"):
        assert client_as(username).get(reverse("reports:rewards")).status_code == 403


def test_publicity_page_liaison_own_unit_office_all_leader_reads(client_as, units):
    liaison = client_as("liaison_housing")
    response = liaison.post(
        reverse("reports:publicity"),
        {
            "unit": units["housing"].pk,
            "held_on": timezone.localdate().isoformat(),
            "kind": "poster",
            "place": "工地",
            "reach": 200,
        },
    )
    assert response.status_code == 302
    refused = liaison.post(
        reverse("reports:publicity"),
        {
            "unit": units["transport"].pk,
            "held_on": timezone.localdate().isoformat(),
            "kind": "poster",
            "reach": 5,
        },
    )
    assert refused.status_code == 400
    assert PublicityActivity.objects.count() == 1
    assert "工地" in client_as("office").get(reverse("reports:publicity")).content.decode()
    leader = client_as("leader")
    assert leader.get(reverse("reports:publicity")).status_code == 200
    assert leader.post(reverse("reports:publicity"), {}).status_code == 403
    assert "工地" not in client_as("liaison_transport").get(reverse("reports:publicity")).content.decode()


def test_case_management_is_office_only_and_publishes(client_as):
    assert client_as("police").get(reverse("reports:cases_manage")).status_code == 403
    client = client_as("office")
    bad = client.post(reverse("reports:case_new"), {"title": "", "summary": ""})
    assert bad.status_code == 400 and TypicalCase.objects.count() == 0
    response = client.post(
        reverse("reports:case_new"), {"title": "砂霸案", "summary": "非法采砂团伙被依法惩处。"}
    )
    assert response.status_code == 302
    case = TypicalCase.objects.get()
    client.post(reverse("reports:case_publish", args=[case.pk]), {"publish": "1"})
    case.refresh_from_db()
    assert case.is_published and case.published_on


def test_home_panel_counts_new_tips_for_office(client_as, make_tip):
    make_tip()
    page = client_as("office").get(reverse("home")).content.decode()
    assert "新举报待研判" in page
    assert "新举报待研判" not in client_as("liaison_housing").get(reverse("home")).content.decode()


def test_navigation_lists_report_pages_by_role(client_as):
    page = client_as("office").get(reverse("reports:register")).content.decode()
    for label in ("举报登记", "录入举报", "举报奖励", "宣传发动", "典型案例管理"):
        assert label in page
    page = client_as("liaison_housing").get(reverse("reports:register")).content.decode()
    assert "典型案例管理" not in page and "举报奖励" not in page
