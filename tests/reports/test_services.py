"""Services: intake from every channel, messages, identity reveal, rewards, publicity, typical cases."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from campaign.models import AuditEntry, Notification, PublicityActivity
from reports import services, uploads
from reports.models import (
    Channel,
    IdentityReveal,
    PublicStatus,
    Reward,
    Tip,
    TipAttachment,
    TipEvent,
    TipMessage,
    TipStatus,
)
from reports.signals import tip_committed

from .conftest import NAMED, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Tip.objects.count(),
        TipEvent.objects.count(),
        TipAttachment.objects.count(),
        TipMessage.objects.count(),
    )


def test_submit_saves_tip_with_code_hashed_pin_event_and_no_routing(make_tip, sectors, regions):
    tip, pin = make_tip(sector=sectors["construction"], region=regions["jiefang"], location="某工地")
    tip.refresh_from_db()
    assert len(pin) == 6 and pin.isdigit()
    assert pin not in tip.pin_hash
    assert tip.channel == Channel.ONLINE and tip.status == TipStatus.NEW
    assert tip.public_status == PublicStatus.RECEIVED
    assert tip.routed_at is None and tip.created_by is None
    assert tip.anonymous and tip.identity_encrypted == ""
    event = tip.events.get()
    assert event.public and "已收到" in event.public_text


def test_submit_announces_tip_committed_only_after_commit(campaign_data, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, tip_id, **kwargs):
        received.append(tip_id)

    tip_committed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tip, _ = services.tip_submit(description="有人放高利贷，暴力催收。")
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [tip.pk]
    finally:
        tip_committed.disconnect(receiver)


def test_failing_receiver_never_fails_the_submission(campaign_data, django_capture_on_commit_callbacks):
    def broken(sender, tip_id, **kwargs):
        raise RuntimeError("redis down")

    tip_committed.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tip, _ = services.tip_submit(description="村霸强占集体土地。")
        assert Tip.objects.filter(pk=tip.pk).exists()
    finally:
        tip_committed.disconnect(broken)


def test_staff_entry_keeps_channel_received_time_reference_and_scan(users, sectors):
    received = timezone.now() - dt.timedelta(days=2)
    scan = uploads.check_upload(upload("来信扫描.pdf", pdf_bytes()))
    tip, pin = services.tip_submit(
        description="来信反映：某村干部把持村务。",
        channel=Channel.LETTER,
        received_at=received,
        original_reference="来信〔2026〕12号",
        attachments=[scan],
        created_by=users["police"],
        sector=sectors["grassroots"],
    )
    assert tip.channel == Channel.LETTER and tip.received_at == received
    assert tip.created_by == users["police"] and tip.original_reference == "来信〔2026〕12号"
    attachment = tip.attachments.get()
    assert attachment.source == TipAttachment.Source.ORIGINAL and attachment.content_type == "application/pdf"
    assert tip.events.filter(kind="entered").exists()
    assert pin


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "很" * 10001}, "description"),
        ({"occurred_at": timezone.localdate() + dt.timedelta(days=3)}, "occurred_at"),
        ({"anonymous": False, "identity": {"phone": "12345"}}, "reporter_phone"),
        ({"anonymous": False, "identity": {"id_number": "410802197805120031"}}, "reporter_id_number"),
        ({"anonymous": False, "identity": {}}, "reporter_name"),
        ({"anonymous": True, "identity": {"name": "张三"}}, "anonymous"),
        ({"channel": "telepathy"}, "channel"),
        ({"channel": Channel.PHONE}, "channel"),  # a public submission cannot claim another channel
    ],
)
def test_bad_input_names_the_field_and_leaves_database_unchanged(campaign_data, fields, field):
    before = _counts()
    data = {"description": "有人欺行霸市。", **fields}
    with pytest.raises(ValidationError) as exc:
        services.tip_submit(**data)
    assert field in exc.value.message_dict
    assert _counts() == before


def test_staff_received_time_in_future_is_refused(users):
    with pytest.raises(ValidationError) as exc:
        services.tip_submit(
            description="电话举报。",
            channel=Channel.PHONE,
            created_by=users["office"],
            received_at=timezone.now() + dt.timedelta(hours=2),
        )
    assert "received_at" in exc.value.message_dict
    assert Tip.objects.count() == 0


def test_named_tip_keeps_masked_identity_for_display(make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    assert not tip.anonymous
    assert tip.identity_masked["phone"] == "139****1234"


def test_reveal_requires_permission_and_reason_and_logs_twice(reveal_users, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    office = reveal_users["office"]
    with pytest.raises(PermissionDenied):
        services.tip_identity_reveal(tip_id=tip.pk, actor=reveal_users["police"], reason="需要联系举报人")
    with pytest.raises(ValidationError) as exc:
        services.tip_identity_reveal(tip_id=tip.pk, actor=office, reason="  ")
    assert "reason" in exc.value.message_dict
    assert IdentityReveal.objects.count() == 0
    identity = services.tip_identity_reveal(
        tip_id=tip.pk, actor=office, reason="需联系举报人补充证据", ip="10.0.0.8"
    )
    assert identity == NAMED
    reveal = IdentityReveal.objects.get()
    assert reveal.user == office and reveal.reason == "需联系举报人补充证据"
    audit = AuditEntry.objects.get(action="tip.identity_reveal")
    assert audit.actor == office and audit.target_id == str(tip.pk) and audit.reason == "需联系举报人补充证据"


def test_office_user_without_permission_cannot_reveal(users, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    with pytest.raises(PermissionDenied):
        services.tip_identity_reveal(tip_id=tip.pk, actor=users["office"], reason="需要联系举报人")


def test_reveal_records_are_append_only(reveal_users, make_tip):
    tip, _ = make_tip(anonymous=False, identity=NAMED)
    services.tip_identity_reveal(tip_id=tip.pk, actor=reveal_users["office"], reason="核实身份")
    reveal = IdentityReveal.objects.get()
    with pytest.raises(PermissionError):
        reveal.delete()
    # Not even a queryset update or delete gets past the database.
    with pytest.raises(DatabaseError), transaction.atomic():
        IdentityReveal.objects.filter(pk=reveal.pk).update(reason="改过的事由")
    with pytest.raises(DatabaseError), transaction.atomic():
        IdentityReveal.objects.filter(pk=reveal.pk).delete()
    assert IdentityReveal.objects.get().reason == "核实身份"


def test_messages_both_ways_with_attachments_and_unread_count(users, make_tip):
    tip, _ = make_tip()
    reply = services.tip_message_reply(
        tip_id=tip.pk,
        body="我补充一张照片。",
        attachments=[uploads.check_upload(upload("a.png", png_bytes()))],
    )
    tip.refresh_from_db()
    assert tip.unread_replies == 1
    assert reply.attachments.get().source == TipAttachment.Source.INFORMANT
    assert Notification.objects.filter(user=users["office"], kind="tip_reply").exists()
    services.tip_message_send(tip_id=tip.pk, actor=users["office"], body="收到，谢谢。")
    tip.refresh_from_db()
    assert tip.unread_replies == 0
    assert [m.direction for m in tip.messages.all()] == ["from_informant", "to_informant"]
    with pytest.raises(PermissionDenied):
        services.tip_message_send(tip_id=tip.pk, actor=users["liaison_housing"], body="你好")
    with pytest.raises(ValidationError):
        services.tip_message_reply(tip_id=tip.pk, body="")


def test_existing_triage_and_public_status_services_still_behave(users, make_tip, units):
    tip, _ = make_tip()
    services.tip_record_triage(
        tip_id=tip.pk, status=TipStatus.REGISTERED, actor=users["office"], unit=units["housing"]
    )
    tip.refresh_from_db()
    assert tip.status == TipStatus.REGISTERED and tip.unit == units["housing"]
    assert tip.public_status == PublicStatus.ACCEPTED
    assert (
        services.tip_set_public_status(
            tip_ids=[tip.pk], public_status=PublicStatus.CONCLUDED, conclusion="已依法处理。"
        )
        == 1
    )
    tip.refresh_from_db()
    assert tip.public_conclusion == "已依法处理。" and tip.concluded_at


def _registered_tip(make_tip, users):
    tip, _ = make_tip()
    services.tip_record_triage(tip_id=tip.pk, status=TipStatus.REGISTERED, actor=users["office"])
    return tip


def test_reward_flow_propose_approve_pay(users, make_tip):
    tip = _registered_tip(make_tip, users)
    reward = services.reward_propose(
        tip_id=tip.pk,
        actor=users["office"],
        amount=Decimal("5000"),
        basis=Reward.Basis.GENERAL,
        lead_result=Reward.LeadResult.SUBSTANTIATED,
    )
    assert reward.status == Reward.Status.PROPOSED and reward.first_tip == tip
    with pytest.raises(PermissionDenied):
        services.reward_decide(reward_id=reward.pk, actor=users["police"], approve=True)
    services.reward_decide(reward_id=reward.pk, actor=users["leader"], approve=True, note="同意")
    assert tip.events.filter(kind="reward:approved", public=True).exists()
    with pytest.raises(ValidationError):
        services.reward_decide(reward_id=reward.pk, actor=users["leader"], approve=False, note="再议")
    services.reward_record_payment(
        reward_id=reward.pk,
        actor=users["office"],
        paid_on=timezone.localdate(),
        method=Reward.PaymentMethod.BANK,
    )
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PAID


def test_reward_refuses_bad_input(users, make_tip):
    new_tip, _ = make_tip()
    with pytest.raises(ValidationError) as exc:
        services.reward_propose(
            tip_id=new_tip.pk,
            actor=users["office"],
            amount=Decimal("0"),
            basis="x",
            lead_result="unsubstantiated",
        )
    assert {"tip", "amount", "basis", "lead_result"} <= set(exc.value.message_dict)
    assert Reward.objects.count() == 0
    tip = _registered_tip(make_tip, users)
    with pytest.raises(PermissionDenied):
        services.reward_propose(
            tip_id=tip.pk,
            actor=users["leader"],
            amount=Decimal("1"),
            basis="general",
            lead_result="substantiated",
        )


def test_proposer_cannot_approve_own_reward_and_rejection_needs_reason(users, make_tip):
    users["office_leader"].refresh_from_db()
    tip = _registered_tip(make_tip, users)
    reward = services.reward_propose(
        tip_id=tip.pk,
        actor=users["office_leader"],
        amount=Decimal("100"),
        basis="general",
        lead_result="partly",
    )
    with pytest.raises(ValidationError):
        services.reward_decide(reward_id=reward.pk, actor=users["office_leader"], approve=True)
    with pytest.raises(ValidationError) as exc:
        services.reward_decide(reward_id=reward.pk, actor=users["leader"], approve=False)
    assert "decision_note" in exc.value.message_dict


def test_publicity_liaison_records_only_own_unit(users, units):
    liaison = users["liaison_housing"]
    services.publicity_record(
        actor=liaison, unit=units["housing"], held_on=timezone.localdate(), kind="poster", reach=50
    )
    with pytest.raises(PermissionDenied):
        services.publicity_record(
            actor=liaison, unit=units["transport"], held_on=timezone.localdate(), kind="poster"
        )
    with pytest.raises(ValidationError) as exc:
        services.publicity_record(
            actor=liaison,
            unit=units["housing"],
            held_on=timezone.localdate() + dt.timedelta(days=1),
            kind="x",
            reach=-1,
        )
    assert {"held_on", "kind", "reach"} <= set(exc.value.message_dict)
    assert PublicityActivity.objects.count() == 1
