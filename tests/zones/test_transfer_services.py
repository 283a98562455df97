"""Services of both zones, in one database: sealing on arrival, exactly-once import, refusals, publishing,
key rotation, signed endpoints and bundle files."""

import datetime as dt
import json
import re
import struct
import uuid
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from reports import uploads
from reports.models import Tip, TipMessage
from transfer import bundles, crypto, internal, keys, public
from transfer.models import (
    DeliveredItem,
    ImportedSubmission,
    PublishedEntry,
    Receipt,
    SealedSubmission,
    TransferLog,
    TransferNonce,
)

DESCRIPTION = "温县某村霸垄断砂石运输，强收过路费，打伤拒交的货车司机。"
IDENTITY = {"name": "赵六", "phone": "13700001111"}


def png_bytes() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def checked_png(name="现场.png"):
    return uploads.check_upload(SimpleUploadedFile(name, png_bytes(), "image/png"))


def submit(sectors=None, regions=None, **extra):
    fields = {
        "description": DESCRIPTION,
        "sector": sectors["transport"] if sectors else None,
        "region": regions["wenxian"] if regions else None,
        "location": "温县黄河滩区",
        "accused": "村霸李某",
        "anonymous": False,
        "identity": IDENTITY,
        "attachments": [checked_png()],
        **extra,
    }
    return public.sealed_tip_submit(**fields)


def envelope_of(sub: SealedSubmission) -> dict:
    return {
        "id": str(sub.id),
        "kind": sub.kind,
        "key_id": sub.key_id,
        "tracking_code": sub.receipt.tracking_code,
        "sealed": crypto.b64(bytes(sub.sealed)),
    }


def all_text_of_transfer_tables() -> str:
    with connection.cursor() as cur:
        text = []
        for table in ("transfer_receipt", "transfer_sealedsubmission", "transfer_publishedentry"):
            cur.execute(f"SELECT coalesce(string_agg(t::text, '|'), '') FROM {table} t")  # noqa: S608
            text.append(cur.fetchone()[0])
    return "\n".join(text)


# --- public node ---------------------------------------------------------------------------------
def test_submission_is_sealed_on_arrival_and_nothing_readable_is_stored(sealing, sectors, regions):
    receipt, pin = submit(sectors, regions)
    assert len(pin) == 6 and receipt.tracking_code
    sub = SealedSubmission.objects.get()
    assert sub.kind == "tip" and sub.key_id == sealing.key_id and sub.receipt == receipt
    stored = all_text_of_transfer_tables()
    for secret in ("村霸", "赵六", "13700001111", "黄河滩区", "transport", "wenxian"):
        assert secret not in stored
    assert png_bytes()[8:40].hex() not in stored
    assert not Tip.objects.filter(tracking_code=receipt.tracking_code).exists()
    assert public.receipt_authenticate(tracking_code=receipt.tracking_code.lower(), pin=pin) == receipt
    assert public.receipt_authenticate(tracking_code=receipt.tracking_code, pin="000000") is None


def test_bad_submission_names_the_field_and_stores_nothing(sealing):
    with pytest.raises(ValidationError) as exc:
        public.sealed_tip_submit(description="  ", anonymous=False, identity={"phone": "12345"})
    assert set(exc.value.message_dict) == {"description", "reporter_phone"}
    assert not Receipt.objects.exists() and not SealedSubmission.objects.exists()


def test_public_node_without_a_key_refuses_rather_than_store_plain_text(zone_settings, db):
    with pytest.raises(keys.SealingUnavailable):
        submit()
    assert not Receipt.objects.exists()


def test_configured_public_key_bootstraps_a_new_public_node(zone_settings, db):
    _private, public_key = crypto.keypair_new()
    zone_settings.ZONE_SEAL_PUBLIC_KEY = public_key
    submit()
    assert SealedSubmission.objects.get().key_id == crypto.key_id(public_key)


def test_collect_returns_oldest_first_within_limits_and_ack_deletes(sealing):
    first, _ = submit()
    second, _ = submit()
    batch = public.submissions_collect(limit=1)
    assert [s["tracking_code"] for s in batch["submissions"]] == [first.tracking_code]
    assert batch["waiting"] == 2
    skipped = public.submissions_collect(limit=5, skip=[batch["submissions"][0]["id"]])
    assert [s["tracking_code"] for s in skipped["submissions"]] == [second.tracking_code]
    assert public.submissions_ack(ids=[batch["submissions"][0]["id"], "not-a-uuid", str(uuid.uuid4())]) == 1
    first.refresh_from_db()
    assert first.collected_at is not None
    assert SealedSubmission.objects.count() == 1


# --- internal side -------------------------------------------------------------------------------
def test_import_creates_the_tip_once_under_the_informants_code(sealing, sectors, regions):
    receipt, pin = submit(sectors, regions)
    env = envelope_of(SealedSubmission.objects.get())
    assert internal.submission_import(envelope=env) == "imported"
    assert internal.submission_import(envelope=env) == "duplicate"
    tip = Tip.objects.get(tracking_code=receipt.tracking_code)
    assert (
        tip.description == DESCRIPTION
        and tip.sector == sectors["transport"]
        and tip.region == regions["wenxian"]
    )
    assert tip.identity_masked["phone"] == "137****1111" and not tip.anonymous
    attachment = tip.attachments.get()
    assert attachment.size == len(png_bytes()) and attachment.file.read() == png_bytes()
    assert ImportedSubmission.objects.get().tip == tip
    # The informant's PIN from the public node opens the imported tip too (same PIN_HASH_KEY).
    from reports.services import tip_authenticate

    assert tip_authenticate(tracking_code=receipt.tracking_code, pin=pin) == tip


def test_altered_or_swapped_envelopes_are_refused(sealing):
    submit()
    submit()
    one, two = (envelope_of(s) for s in SealedSubmission.objects.all())
    tampered = dict(one, sealed=crypto.b64(crypto.unb64(one["sealed"])[:-3] + b"xyz"))
    with pytest.raises(internal.ImportRefused, match="cannot be opened"):
        internal.submission_import(envelope=tampered)
    swapped = dict(one, sealed=two["sealed"])
    with pytest.raises(internal.ImportRefused, match="does not match"):
        internal.submission_import(envelope=swapped)
    with pytest.raises(internal.ImportRefused, match="unknown key"):
        internal.submission_import(envelope=dict(one, key_id="0" * 16))
    assert not Tip.objects.exists() and not ImportedSubmission.objects.exists()


def test_attachment_that_is_not_what_it_claims_is_refused_on_the_internal_side(sealing):
    receipt, _ = submit()
    sub = SealedSubmission.objects.get()
    payload = crypto.unseal(bytes(sub.sealed), private_key=keys.zone_private_key(sealing.key_id))
    payload["attachments"][0]["data"] = crypto.b64(b"MZ\x90\x00" + b"\x00" * 60)  # an executable
    payload["attachments"][0]["size"] = 64
    env = dict(envelope_of(sub), sealed=crypto.b64(crypto.seal(payload, public_key=sealing.public_key)))
    with pytest.raises(internal.ImportRefused, match="attachment"):
        internal.submission_import(envelope=env)
    assert not Tip.objects.filter(tracking_code=receipt.tracking_code).exists()


def test_reply_is_sealed_and_imported_into_the_thread(sealing):
    receipt, _ = submit()
    internal.submission_import(envelope=envelope_of(SealedSubmission.objects.get()))
    SealedSubmission.objects.all().delete()
    public.sealed_reply_submit(receipt_id=receipt.pk, body="补充：每天早上六点在路口收钱。", attachments=[])
    assert "六点" not in all_text_of_transfer_tables()
    assert PublishedEntry.objects.get(kind="reply").text == ""
    env = envelope_of(SealedSubmission.objects.get())
    assert internal.submission_import(envelope=env) == "imported"
    assert internal.submission_import(envelope=env) == "duplicate"
    message = TipMessage.objects.get(direction="from_informant")
    assert message.body == "补充：每天早上六点在路口收钱。" and message.tip.unread_replies == 1


def test_rotated_key_still_opens_what_was_sealed_before(sealing):
    submit()
    old = envelope_of(SealedSubmission.objects.get())
    new_pair = keys.zone_key_rotate()
    payload, _marks = internal.publications_collect()
    assert payload["sealing_key"]["key_id"] == new_pair.key_id
    public.publications_apply(payload=payload)
    submit()
    newest = SealedSubmission.objects.order_by("-created_at").first()
    assert newest.key_id == new_pair.key_id != old["key_id"]
    assert internal.submission_import(envelope=old) == "imported"
    assert internal.submission_import(envelope=envelope_of(newest)) == "imported"


# --- publishing ----------------------------------------------------------------------------------
def test_publications_reach_the_receipt_once_and_only_newer_state_wins(sealing, users):
    from reports import services as reports_services

    receipt, _ = submit()
    internal.submission_import(envelope=envelope_of(SealedSubmission.objects.get()))
    tip = Tip.objects.get(tracking_code=receipt.tracking_code)
    reports_services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="请补充时间。")
    reports_services.tip_record_triage(tip_id=tip.pk, status="registered", actor=users["office"])
    payload, marks = internal.publications_collect()
    public.publications_apply(payload=payload)
    public.publications_apply(payload=payload)  # delivered twice: no doubles
    internal.publications_delivered(marks=marks)
    receipt.refresh_from_db()
    assert receipt.public_status == "accepted"
    kinds = list(receipt.entries.values_list("kind", flat=True))
    assert kinds.count("office_message") == 1 and kinds.count("event") == 2
    assert not receipt.entries.filter(source_id=public.LOCAL_RECEIVED).exists()
    # Nothing new: nothing collected (reference data went with the first push).
    assert internal.publications_collect()[1] == []
    stale = json.loads(json.dumps(payload))
    item = next(t for t in stale["tips"] if t["tracking_code"] == receipt.tracking_code)
    item.update(version=0, public_status="received")
    public.publications_apply(payload=stale)
    receipt.refresh_from_db()
    assert receipt.public_status == "accepted"


def test_staff_entered_tips_get_receipts_on_the_public_node(sealing, users):
    from reports import services as reports_services

    tip, pin = reports_services.tip_submit(
        description="来信反映：某市场有人强行收取摊位费。",
        channel="letter",
        created_by=users["office"],
        received_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),
    )
    payload, _marks = internal.publications_collect()
    public.publications_apply(payload=payload)
    receipt = public.receipt_authenticate(tracking_code=tip.tracking_code, pin=pin)
    assert receipt is not None and "摊位费" not in all_text_of_transfer_tables()


def test_reference_data_and_published_cases_are_mirrored(sealing, users, units):
    from campaign.models import Unit

    payload, marks = internal.publications_collect()
    assert {u["code"] for u in payload["reference"]["units"]} >= {"office", "police", "housing"}
    Unit.objects.filter(code="housing").update(hotline="0391-0000000")
    public.publications_apply(payload=internal.publications_collect()[0])
    assert Unit.objects.get(code="housing").hotline == "0391-0000000"
    internal.publications_delivered(marks=internal.publications_collect()[1])
    assert "reference" not in internal.publications_collect()[0]
    assert DeliveredItem.objects.filter(kind="reference").exists()


# --- signed endpoints (public node) --------------------------------------------------------------
@pytest.fixture
def public_client(sealing, settings):
    from django.urls import clear_url_caches

    settings.PORTAL_ZONE = "public"
    settings.ROOT_URLCONF = "tests.zones.urls_public"
    clear_url_caches()
    yield Client()
    clear_url_caches()


def signed_post(client, action, payload, *, headers=None, path=None):
    body = json.dumps(payload).encode()
    path = path or f"/zone-transfer/v1/{action}/"
    headers = headers or crypto.sign_request("POST", path, body)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(path, body, content_type="application/json", **extra), headers


def test_signed_pull_answers_with_a_signed_body(public_client):
    submit()
    response, headers = signed_post(public_client, "pull", {"limit": 5})
    assert response.status_code == 200
    crypto.verify_response(
        request_nonce=headers[crypto.HEADER_NONCE],
        status=200,
        body=response.content,
        signature=response[crypto.HEADER_SIGNATURE],
    )
    assert len(response.json()["submissions"]) == 1


def test_replayed_tampered_and_unsigned_requests_are_refused_and_logged(public_client):
    submit()
    response, headers = signed_post(public_client, "ack", {"ids": []})
    assert response.status_code == 200
    replay, _ = signed_post(public_client, "ack", {"ids": []}, headers=headers)
    assert replay.status_code == 409
    sub_id = str(SealedSubmission.objects.get().id)
    good = crypto.sign_request("POST", "/zone-transfer/v1/ack/", json.dumps({"ids": []}).encode())
    tampered, _ = signed_post(public_client, "ack", {"ids": [sub_id]}, headers=good)
    assert tampered.status_code == 403
    unsigned = public_client.post("/zone-transfer/v1/pull/", "{}", content_type="application/json")
    assert unsigned.status_code == 403
    assert SealedSubmission.objects.count() == 1  # the tampered ack deleted nothing
    reasons = list(TransferLog.objects.filter(action="refused").values_list("detail__reason", flat=True))
    assert "replayed nonce" in reasons and reasons.count("bad signature") == 1
    assert any("malformed" in r for r in reasons)
    assert TransferNonce.objects.count() == 1


def test_sealed_api_matches_the_public_contract(public_client, sectors):
    response = public_client.post(
        "/api/v1/public/tips/",
        {"description": DESCRIPTION, "sector": "transport", "anonymous": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert set(receipt) == {"tracking_code", "pin", "received_at"}
    bad = public_client.post(
        "/api/v1/public/tips/", {"description": "", "sector": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 400 and {"description", "sector"} <= set(bad.json()["errors"])
    creds = {"tracking_code": receipt["tracking_code"], "pin": receipt["pin"]}
    status = public_client.post("/api/v1/public/tips/status/", creds, content_type="application/json")
    assert status.status_code == 200 and status.json()["status"] == "received"
    assert [e["text"] for e in status.json()["timeline"]] == ["您的举报已收到，我们将尽快研判。"]
    wrong = public_client.post(
        "/api/v1/public/tips/status/", dict(creds, pin="000000"), content_type="application/json"
    )
    assert wrong.status_code == 403 and "pin" in wrong.json()["errors"]
    reply = public_client.post(
        "/api/v1/public/tips/messages/", dict(creds, body="补充材料"), content_type="application/json"
    )
    assert reply.status_code == 201
    assert SealedSubmission.objects.filter(kind="reply").count() == 1


def test_sealed_api_answers_503_without_a_key(zone_settings, db, settings):
    from django.urls import clear_url_caches

    settings.PORTAL_ZONE = "public"
    settings.ROOT_URLCONF = "tests.zones.urls_public"
    clear_url_caches()
    response = Client().post(
        "/api/v1/public/tips/", {"description": DESCRIPTION}, content_type="application/json"
    )
    clear_url_caches()
    assert response.status_code == 503 and "0391-12337" in response.json()["detail"]
    assert not Receipt.objects.exists()


# --- bundle files --------------------------------------------------------------------------------
def test_bundles_carry_the_exchange_both_ways_once(sealing, settings, tmp_path, users):
    receipt, _ = submit()
    settings.PORTAL_ZONE = "public"
    out = bundles.bundle_export(out=tmp_path / "to-internal.bundle")
    assert out["submissions"] == 1
    assert DESCRIPTION.encode() not in (tmp_path / "to-internal.bundle").read_bytes()

    with pytest.raises(bundles.BundleError, match="另一个区"):
        bundles.bundle_import(path=tmp_path / "to-internal.bundle")

    settings.PORTAL_ZONE = "internal"
    assert bundles.bundle_import(path=tmp_path / "to-internal.bundle")["imported"] == 1
    with pytest.raises(bundles.BundleError, match="已经导入过"):
        bundles.bundle_import(path=tmp_path / "to-internal.bundle")
    tip = Tip.objects.get(tracking_code=receipt.tracking_code)
    from reports import services as reports_services

    reports_services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="已收到，请保持电话畅通。")
    bundles.bundle_export(out=tmp_path / "to-public.bundle")

    settings.PORTAL_ZONE = "public"
    result = bundles.bundle_import(path=tmp_path / "to-public.bundle")
    assert result["deleted"] == 1 and not SealedSubmission.objects.exists()
    assert receipt.entries.filter(kind="office_message", text="已收到，请保持电话畅通。").exists()

    broken = bytearray((tmp_path / "to-public.bundle").read_bytes())
    broken[40] ^= 1
    (tmp_path / "broken.bundle").write_bytes(bytes(broken))
    with pytest.raises(bundles.BundleError, match="被拒绝"):
        bundles.bundle_import(path=tmp_path / "broken.bundle")
    assert TransferLog.objects.filter(action="refused").exists()


# --- public pages (sealed) -----------------------------------------------------------------------
def test_tip_form_on_a_public_node_seals_and_follow_up_shows_published_state(public_client, sectors, users):
    photo = SimpleUploadedFile("现场.png", png_bytes(), "image/png")
    response = public_client.post(
        "/report/",
        {
            "description": DESCRIPTION,
            "sector": "transport",
            "anonymous": "0",
            "reporter_name": "赵六",
            "reporter_phone": "13700001111",
            "attachments": [photo],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/report/receipt/"
    receipt_page = public_client.get("/report/receipt/").content.decode()
    receipt = Receipt.objects.get()
    pin = re.search(r'<span class="code-display">(\d{6})</span>', receipt_page).group(1)
    assert receipt.tracking_code in receipt_page and "1 个文件" in receipt_page
    assert SealedSubmission.objects.get().receipt == receipt and not Tip.objects.exists()
    assert "村霸" not in all_text_of_transfer_tables()
    # A refused form stores nothing and says which field is wrong.
    bad = public_client.post("/report/", {"description": "", "anonymous": "1"})
    assert bad.status_code == 400 and "请填写举报内容" in bad.content.decode()
    assert Receipt.objects.count() == 1

    internal.submission_import(envelope=envelope_of(SealedSubmission.objects.get()))
    from reports import services as reports_services

    tip = Tip.objects.get(tracking_code=receipt.tracking_code)
    reports_services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="请问具体在哪个路口？")
    public.publications_apply(payload=internal.publications_collect()[0])

    page = public_client.post("/track/", {"tracking_code": receipt.tracking_code, "pin": pin}, follow=True)
    html = page.content.decode()
    assert page.status_code == 200 and "请问具体在哪个路口？" in html and receipt.tracking_code in html
    reply = public_client.post("/track/tip/", {"body": "在县城北环路口。"}, follow=True)
    assert "留言已发送" in reply.content.decode() and "公开服务器不保存留言内容" in reply.content.decode()
    assert SealedSubmission.objects.filter(kind="reply").count() == 1
    assert "北环" not in all_text_of_transfer_tables()
    assert public_client.get("/track/files/1/").status_code == 404


def test_exchange_log_keeps_a_month_of_exchanges_and_a_year_of_refusals(zone_settings, db):
    from django.utils import timezone

    now = timezone.now()
    for days, ok in ((40, True), (10, True), (200, False), (400, False)):
        row = public.transfer_log(action="sync" if ok else "refused", ok=ok)
        TransferLog.objects.filter(pk=row.pk).update(at=now - dt.timedelta(days=days))
    assert public.transfer_log_prune() == 2
    assert sorted(TransferLog.objects.values_list("ok", flat=True)) == [False, True]
