"""短信: sign-for prompts to liaisons and, with the informant's consent, feedback to named informants —
through the outbox and the pluggable backend, here a fake HTTP gateway on loopback."""

import pytest

from campaign.models import OutboundMessage
from campaign.tasks import send_outbound
from leads.models import LeadEvent, LeadTip
from reports import crypto

from ..notifications.conftest import GATEWAY_KEY, FakeGateway
from .conftest import at
from .helpers import make_tip, registered, sign_off, step

pytestmark = pytest.mark.django_db
INFORMANT_PHONE = "13903917788"


@pytest.fixture
def gateway(settings):
    fake = FakeGateway()
    settings.SMS_BACKEND = "campaign.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = fake.url
    settings.SMS_GATEWAY_KEY = GATEWAY_KEY
    settings.SMS_GATEWAY_TIMEOUT = 2.0
    yield fake
    fake.close()


def _send_all_sms():
    pending = OutboundMessage.objects.filter(channel="sms", status="pending").order_by("pk")
    for pk in pending.values_list("pk", flat=True):
        send_outbound.apply(args=[pk])


def test_the_sign_for_prompt_reaches_the_gateway_signed(gateway, users, sectors, regions):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    _send_all_sms()
    assert len(gateway.accepted) == 1 and all(r["signed"] for r in gateway.requests)
    sent = gateway.accepted[0]
    assert sent["to"] == users["liaison_housing"].phone
    assert sent["body"].startswith("【焦作市扫黑办】新交办线索 " + lead.number) and "签收" in sent["body"]
    assert OutboundMessage.objects.get(channel="sms").status == "sent"


def test_a_busy_gateway_is_retried_and_the_reminder_still_goes_once(gateway, users, sectors, regions):
    from leads.practice_sweep import practice_sweep

    registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    OutboundMessage.objects.all().delete()
    practice_sweep(now=at("2026-03-04 09:00"))
    practice_sweep(now=at("2026-03-04 09:05"))
    gateway.script = [503, 200]
    _send_all_sms()
    assert len(gateway.requests) == 2 and len(gateway.accepted) == 1
    assert "已超过签收期限" in gateway.accepted[0]["body"]


def _lead_with_tip(users, sectors, regions, *, consent: bool, anonymous: bool = False):
    lead = registered(users, sectors, regions, now=at("2026-03-02 10:00"))
    tip = make_tip(
        anonymous=anonymous,
        sms_consent=consent,
        identity_encrypted=""
        if anonymous
        else crypto.encrypt_identity({"name": "陈立华", "phone": INFORMANT_PHONE}),
        received_at=at("2026-03-01 10:00"),
    )
    LeadTip.objects.create(lead=lead, tip=tip)
    return lead, tip


def _verify_and_close(users, lead):
    step(users, lead, "accept", "liaison_housing", now=at("2026-03-02 11:00"))
    sign_off(users, lead, "liaison_housing", result="partly", findings="部分属实。")
    step(users, lead, "submit_result", "liaison_housing", now=at("2026-03-06 10:00"))
    return step(
        users,
        lead,
        "close",
        "office",
        now=at("2026-03-09 10:00"),
        disposition="administrative_penalty",
        public_conclusion="经核查，部分属实，已依法处理。",
    )


def test_a_consenting_named_informant_gets_feedback_by_sms(gateway, users, sectors, regions):
    lead, tip = _lead_with_tip(users, sectors, regions, consent=True)
    _verify_and_close(users, lead)
    _send_all_sms()
    to_informant = [m for m in gateway.accepted if m["to"] == INFORMANT_PHONE]
    assert [m["body"] for m in to_informant] == [
        f"【焦作市扫黑办】您反映的问题（查询码 {tip.tracking_code}）已交有关部门核查，可凭查询码和查询密码在举报平台查询进度。",
        f"【焦作市扫黑办】您反映的问题（查询码 {tip.tracking_code}）已办结，请凭查询码和查询密码登录举报平台查看办理结果。",
    ]
    # The conclusion itself never leaves by SMS; the timeline says a message went, not to whom.
    assert all("部分属实" not in m["body"] for m in to_informant)
    close = LeadEvent.objects.get(lead=lead, action="close")
    assert close.data["informant_sms"] == 1 and INFORMANT_PHONE not in str(close.data)


@pytest.mark.parametrize("consent, anonymous", [(False, False), (True, True)])
def test_no_consent_or_no_name_no_sms(gateway, users, sectors, regions, consent, anonymous):
    lead, _tip = _lead_with_tip(users, sectors, regions, consent=consent, anonymous=anonymous)
    _verify_and_close(users, lead)
    assert not OutboundMessage.objects.filter(recipient=INFORMANT_PHONE).exists()


def test_sms_can_be_switched_off(users, sectors, regions, settings):
    settings.LEADS = {"SMS_SIGN_FOR": False, "SMS_INFORMANT_FEEDBACK": False}
    lead, _tip = _lead_with_tip(users, sectors, regions, consent=True)
    _verify_and_close(users, lead)
    assert not OutboundMessage.objects.filter(
        channel="sms", recipient__in=[INFORMANT_PHONE, users["liaison_housing"].phone]
    ).exists()
