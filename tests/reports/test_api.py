"""Public and staff tip API (DESIGN.md contract): readable errors with field names, no half tips."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from campaign.models import AuditEntry
from reports import services
from reports.models import IdentityReveal, Tip, TipAttachment, TipMessage, TipStatus

from .conftest import NAMED, png_bytes, upload

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/public/tips/"
STATUS = "/api/v1/public/tips/status/"
MESSAGES = "/api/v1/public/tips/messages/"
GOOD = {"description": "有人在河道非法采砂，村民阻拦被打。", "sector": "mining", "region": "qinyang"}


def test_public_submit_json_returns_code_pin_and_time(api_client, campaign_data):
    response = api_client.post(
        CREATE, {**GOOD, "anonymous": False, **{f"reporter_{k}": v for k, v in NAMED.items()}}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"tracking_code", "pin", "received_at"}
    tip = Tip.objects.get(tracking_code=body["tracking_code"])
    assert tip.sector.code == "mining" and tip.region.code == "qinyang" and not tip.anonymous
    assert tip.identity_masked["phone"] == "139****1234"


def test_public_submit_multipart_with_attachments(api_client, campaign_data):
    response = api_client.post(
        CREATE,
        {**GOOD, "attachments": [upload("a.png", png_bytes()), upload("b.png", png_bytes())]},
        format="multipart",
    )
    assert response.status_code == 201
    assert TipAttachment.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"description": ""}, "description"),
        ({"sector": "mining"}, "description"),
        ({"description": "很" * 10001}, "description"),
        ({"occurred_at": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}, "occurred_at"),
        ({"occurred_at": "not-a-date"}, "occurred_at"),
        ({"sector": "space_mining"}, "sector"),
        ({"region": "mars"}, "region"),
        ({"anonymous": False, "reporter_phone": "12345"}, "reporter_phone"),
        ({"anonymous": False, "reporter_id_number": "410802197805120031"}, "reporter_id_number"),
        ({"anonymous": True, "reporter_name": "张三"}, "anonymous"),
        ({"website": "bot"}, "website"),
    ],
)
def test_public_submit_bad_input_is_400_naming_field_and_stores_nothing(
    api_client, campaign_data, payload, field
):
    data = {**GOOD, **payload}
    if "description" not in payload and field == "description":
        data.pop("description")
    response = api_client.post(CREATE, data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"], body
    assert field in body["detail"]
    assert Tip.objects.count() == 0


@pytest.mark.parametrize(
    ("files", "text"),
    [
        ([upload("x.exe", b"MZ" + b"\0" * 300)], "类型不受支持"),
        ([upload("empty.png", b"")], "空文件"),
    ],
)
def test_public_submit_bad_files_are_refused(api_client, campaign_data, files, text):
    response = api_client.post(CREATE, {**GOOD, "attachments": files}, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()["errors"]
    assert text in json.dumps(response.json(), ensure_ascii=False)
    assert Tip.objects.count() == 0 and TipAttachment.objects.count() == 0


def test_public_submit_file_too_large(api_client, campaign_data, settings):
    settings.ATTACHMENT_MAX_BYTES = 500
    response = api_client.post(
        CREATE,
        {**GOOD, "attachments": [upload("big.png", png_bytes(40, 40) + b"\0" * 600)]},
        format="multipart",
    )
    assert response.status_code == 400 and "太大" in response.json()["errors"]["attachments"][0]
    assert Tip.objects.count() == 0


def test_malformed_json_gets_a_readable_message(api_client, campaign_data):
    response = api_client.post(CREATE, '{"description": "x",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"] and "格式" in response.json()["detail"]
    assert Tip.objects.count() == 0


def test_public_submit_is_rate_limited(api_client, campaign_data, settings):
    settings.TIP_SUBMIT_RATE = (1, 600)
    assert api_client.post(CREATE, GOOD, format="json").status_code == 201
    response = api_client.post(CREATE, GOOD, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0 and "分钟后再试" in response.json()["detail"]
    assert Tip.objects.count() == 1


def test_status_and_messages_with_code_and_pin(api_client, users, campaign_data):
    body = api_client.post(CREATE, GOOD, format="json").json()
    tip = Tip.objects.get()
    services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="请补充时间。")
    creds = {"tracking_code": body["tracking_code"], "pin": body["pin"]}
    status = api_client.post(STATUS, creds, format="json")
    assert status.status_code == 200
    data = status.json()
    assert data["status"] == "received" and data["timeline"][0]["text"]
    assert (
        data["messages"][0]["body"] == "请补充时间。" and data["messages"][0]["direction"] == "to_informant"
    )
    assert "unit" not in json.dumps(data)
    reply = api_client.post(MESSAGES, {**creds, "body": "上个月十五号。"}, format="json")
    assert reply.status_code == 201
    assert TipMessage.objects.filter(direction="from_informant").count() == 1
    empty = api_client.post(MESSAGES, {**creds, "body": ""}, format="json")
    assert empty.status_code == 400 and "body" in empty.json()["errors"]


def test_wrong_pin_then_lockout_with_wait(api_client, campaign_data):
    body = api_client.post(CREATE, GOOD, format="json").json()
    wrong = {"tracking_code": body["tracking_code"], "pin": "999999" if body["pin"] != "999999" else "888888"}
    for left in (4, 3, 2, 1):
        response = api_client.post(STATUS, wrong, format="json")
        assert response.status_code == 403 and response.json()["attempts_left"] == left
    response = api_client.post(STATUS, wrong, format="json")
    assert response.status_code == 429 and response.json()["retry_after"] > 0
    right = api_client.post(
        STATUS, {"tracking_code": body["tracking_code"], "pin": body["pin"]}, format="json"
    )
    assert right.status_code == 429


def test_unknown_code_answers_like_a_wrong_pin(api_client, campaign_data):
    response = api_client.post(STATUS, {"tracking_code": "AAAA-CCCC-EEEE", "pin": "123456"}, format="json")
    assert response.status_code == 403
    bad = api_client.post(STATUS, {"tracking_code": "hello", "pin": "1"}, format="json")
    assert bad.status_code == 400 and "tracking_code" in bad.json()["errors"]


# --- staff ---------------------------------------------------------------------------------------
def test_staff_list_is_paginated_filtered_and_masked(api_as, make_tip, sectors):
    for i in range(3):
        make_tip(
            description=f"工地强揽土方第{i}件",
            sector=sectors["construction"],
            anonymous=False,
            identity=NAMED,
        )
    make_tip(description="放高利贷", sector=sectors["lending"])
    client = api_as("office")
    response = client.get("/api/v1/tips/", {"sector": "construction", "page_size": 2})
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    tip = body["results"][0]
    for key in ("id", "tracking_code", "channel", "status", "sector", "region", "received_at", "reporter"):
        assert key in tip
    assert tip["sector"] == "construction"
    assert tip["reporter"]["phone"] == "139****1234" and tip["reporter"]["masked"] is True
    assert "13903911234" not in response.content.decode()
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 1 and second["previous"]
    assert {r["id"] for r in body["results"]}.isdisjoint({r["id"] for r in second["results"]})
    search = client.get("/api/v1/tips/", {"q": "高利贷"}).json()
    assert search["count"] == 1
    bad = client.get("/api/v1/tips/", {"sector": "nope"})
    assert bad.status_code == 400 and "sector" in bad.json()["errors"]


def test_staff_list_query_count_does_not_grow_with_rows(
    api_as, make_tip, sectors, django_assert_max_num_queries
):
    for i in range(30):
        make_tip(description=f"举报{i}", sector=sectors["transport"])
    client = api_as("office")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/tips/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_liaison_sees_only_own_units_tips_and_gets_404_for_others(api_as, users, make_tip, units):
    mine, _ = make_tip()
    other, _ = make_tip()
    services.tip_record_triage(
        tip_id=mine.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["housing"]
    )
    services.tip_record_triage(
        tip_id=other.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["transport"]
    )
    client = api_as("liaison_housing")
    listing = client.get("/api/v1/tips/").json()
    assert [t["id"] for t in listing["results"]] == [mine.pk]
    assert client.get(f"/api/v1/tips/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/tips/{other.pk}/").status_code == 404
    assert api_as("discipline").get("/api/v1/tips/").status_code == 403


def test_staff_api_creates_tip_from_other_channel_and_returns_pin_once(api_as, campaign_data):
    client = api_as("police")
    response = client.post(
        "/api/v1/tips/",
        {
            **GOOD,
            "channel": "phone",
            "received_at": timezone.now().isoformat(),
            "original_reference": "来电-001",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["channel"] == "phone" and len(body["pin"]) == 6
    tip = Tip.objects.get(pk=body["id"])
    assert tip.created_by.username == "police"
    bad = client.post(
        "/api/v1/tips/",
        {**GOOD, "channel": "online", "received_at": timezone.now().isoformat()},
        format="json",
    )
    assert bad.status_code == 400 and "channel" in bad.json()["errors"]
    assert (
        api_as("leader").post("/api/v1/tips/", {**GOOD, "channel": "phone"}, format="json").status_code == 403
    )


def test_reveal_reporter_requires_reason_and_permission_and_is_logged(api_as, reveal_users, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    url = f"/api/v1/tips/{tip.pk}/reveal-reporter/"
    assert api_as("police").post(url, {"reason": "联系举报人"}, format="json").status_code == 403
    client = api_as("office")
    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    response = client.post(url, {"reason": "需联系举报人补充证据"}, format="json")
    assert response.status_code == 200
    assert (
        response.json()["reporter"]["phone"] == "13903911234"
        and response.json()["reporter"]["masked"] is False
    )
    assert IdentityReveal.objects.count() == 1
    assert AuditEntry.objects.filter(action="tip.identity_reveal", reason="需联系举报人补充证据").count() == 1


def test_informant_message_with_attachment_over_multipart(api_client, campaign_data):
    body = api_client.post(CREATE, GOOD, format="json").json()
    response = api_client.post(
        MESSAGES,
        {
            "tracking_code": body["tracking_code"],
            "pin": body["pin"],
            "body": "补充现场照片。",
            "attachments": [upload("补充.png", png_bytes())],
        },
        format="multipart",
    )
    assert response.status_code == 201
    message = TipMessage.objects.get()
    assert message.attachments.get().original_name == "补充.png"
    status = api_client.post(
        STATUS, {"tracking_code": body["tracking_code"], "pin": body["pin"]}, format="json"
    )
    assert status.json()["messages"][0]["attachments"][0]["name"] == "补充.png"
