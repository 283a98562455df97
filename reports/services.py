"""Writes for tips. Higher apps (leads) change what a tip shows only through these functions."""

import datetime as dt
import functools
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaign.audit import audit_record
from campaign.models import Notification, PublicityActivity, Region, Sector, Unit, User
from campaign.roles import Role

from . import access, crypto, validators
from .models import (
    Channel,
    IdentityReveal,
    PublicStatus,
    Reward,
    Tip,
    TipAttachment,
    TipEvent,
    TipMessage,
    TipStatus,
    TypicalCase,
)
from .signals import tip_committed
from .uploads import CheckedFile

log = logging.getLogger(__name__)

PUBLIC_STATUS_TEXT = {
    PublicStatus.RECEIVED: _("您的举报已收到，我们将尽快研判。"),
    PublicStatus.ACCEPTED: _("您的举报已受理，已交有关部门核查。"),
    PublicStatus.VERIFYING: _("有关部门正在核查。"),
    PublicStatus.CONCLUDED: _("核查工作已办结。"),
    PublicStatus.NOT_ACCEPTED: _("经研判，您反映的问题不属于扫黑除恶专项斗争受理范围。"),
}


@transaction.atomic
def tip_record_triage(
    *, tip_id: int, status: str, actor, note: str = "", unit=None, duplicate_of_id: int | None = None
) -> Tip:
    """Record the office's triage decision on a tip (registered as lead, merged, duplicate, rejected)."""
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    old = tip.status
    tip.status = status
    tip.triaged_at = timezone.now()
    tip.triaged_by = actor
    tip.triage_note = note
    if unit is not None:
        tip.unit = unit
    if duplicate_of_id is not None:
        tip.duplicate_of_id = duplicate_of_id
    tip.version += 1
    tip.save(
        update_fields=["status", "triaged_at", "triaged_by", "triage_note", "unit", "duplicate_of", "version"]
    )
    TipEvent.objects.create(tip=tip, actor=actor, kind="triage", note=note, data={"from": old, "to": status})
    if status in (TipStatus.REGISTERED, TipStatus.MERGED, TipStatus.DUPLICATE):
        _set_public(tip, PublicStatus.ACCEPTED, actor=actor)
    elif status == TipStatus.REJECTED:
        _set_public(tip, PublicStatus.NOT_ACCEPTED, actor=actor)
    return tip


@transaction.atomic
def tip_set_public_status(*, tip_ids: list[int], public_status: str, actor=None, conclusion: str = "") -> int:
    """Move the informant-facing status of tips (called by leads when a lead step changes it).

    `conclusion` is the text the office chose to publish when a lead is closed. Internal details (units,
    findings) never reach the public timeline: only the plain-words status text and that conclusion.
    """
    changed = 0
    for tip in Tip.objects.select_for_update().filter(pk__in=tip_ids).order_by("pk"):
        if _set_public(tip, public_status, actor=actor, conclusion=conclusion):
            changed += 1
    return changed


def _set_public(tip: Tip, public_status: str, *, actor, conclusion: str = "") -> bool:
    if public_status == tip.public_status and not conclusion:
        return False
    fields = ["public_status", "version"]
    tip.public_status = public_status
    if public_status == PublicStatus.CONCLUDED:
        tip.concluded_at = timezone.now()
        tip.public_conclusion = conclusion
        fields += ["concluded_at", "public_conclusion"]
    tip.version += 1
    tip.save(update_fields=fields)
    text = PUBLIC_STATUS_TEXT.get(PublicStatus(public_status), "")
    if conclusion:
        text = f"{text} {conclusion}"
    TipEvent.objects.create(
        tip=tip, actor=actor, kind=f"public:{public_status}", public=True, public_text=text[:300]
    )
    return True


@transaction.atomic
def tip_set_restricted(
    *, tip_ids, restricted: bool, actor=None, reason: str = "", lead_number: str = ""
) -> int:
    """Mark tips as behind a restricted lead (限制知悉范围), or lift the mark; called by leads, which knows
    which leads a tip is behind. Only tips whose mark changes are written, each with an internal timeline
    entry (never public: the informant is not told). Returns how many changed."""
    if not isinstance(restricted, bool):
        raise ValidationError({"restricted": [_("限制知悉范围须为是或否。")]})
    try:
        ids = sorted({int(t) for t in tip_ids})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"tip_ids": [_("举报编号无效。")]}) from exc
    if not ids:
        return 0
    changing = list(
        Tip.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(restricted=restricted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not changing:
        return 0
    Tip.objects.filter(pk__in=changing).update(restricted=restricted)
    data = {"lead": lead_number} if lead_number else {}
    TipEvent.objects.bulk_create(
        TipEvent(
            tip_id=pk,
            actor=actor,
            kind="restricted" if restricted else "unrestricted",
            note=reason,
            data=data,
        )
        for pk in changing
    )
    return len(changing)


# --- intake --------------------------------------------------------------------------------------
def _announce_committed(tip_id: int) -> None:
    for receiver, result in tip_committed.send_robust(sender=Tip, tip_id=tip_id):
        if isinstance(result, Exception):
            log.error("tip_committed receiver %r failed for tip %s", receiver, tip_id, exc_info=result)


def _store_attachments(
    *, tip: Tip, files: list[CheckedFile], source: str, uploaded_by=None, message: TipMessage | None = None
) -> list[TipAttachment]:
    """Copy checked files into storage and create their rows. Files written before a rollback are removed."""
    stored = []
    for item in files:
        attachment = TipAttachment(
            tip=tip,
            message=message,
            source=source,
            original_name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=uploaded_by,
        )
        handle = item.open()
        try:
            attachment.file.save(item.name, File(handle), save=False)
        finally:
            if item.upload is None:
                handle.close()
        stored.append(attachment)
    try:
        TipAttachment.objects.bulk_create(stored)
    except Exception:
        _delete_files(stored)
        raise
    return stored


def _delete_files(attachments) -> None:
    for attachment in attachments:
        try:
            attachment.file.delete(save=False)
        except OSError:
            log.warning("could not remove attachment file %s", attachment.file.name)


def _check_choice(value, choices, field: str) -> None:
    if value not in choices.values:
        raise ValidationError({field: [_("无效的选项：%(value)s。") % {"value": value}]})


def tip_submit(
    *,
    description: str,
    channel: str = Channel.ONLINE,
    sector: Sector | None = None,
    region: Region | None = None,
    location: str = "",
    accused: str = "",
    occurred_at: dt.date | None = None,
    anonymous: bool = True,
    identity: dict | None = None,
    attachments: list[CheckedFile] = (),
    received_at: dt.datetime | None = None,
    original_reference: str = "",
    created_by: User | None = None,
) -> tuple[Tip, str]:
    """Save a tip from any channel in one transaction; returns the tip and its PIN (shown once, never stored).

    The public form and API pass no `created_by`; staff entry passes the staff member, the channel and
    when the tip arrived. Nothing here needs Redis or the workers: `tip_committed` goes out after commit.
    Raises ValidationError (keyed by field) and leaves the database unchanged on bad input.
    """
    errors: dict[str, list[str]] = {}
    try:
        description = validators.validate_description(description)
    except ValidationError as exc:
        errors["description"] = exc.messages
    try:
        validators.validate_not_future_date(occurred_at)
    except ValidationError as exc:
        errors["occurred_at"] = exc.messages
    try:
        validators.validate_not_future_datetime(received_at)
    except ValidationError as exc:
        errors["received_at"] = exc.messages
    if channel not in Channel.values:
        errors["channel"] = [_("无效的举报渠道：%(value)s。") % {"value": channel}]
    elif created_by is None and channel != Channel.ONLINE:
        errors["channel"] = [_("网上提交的举报只能是“网上举报”渠道。")]
    clean_identity: dict = {}
    try:
        clean_identity = validators.validate_identity(anonymous=anonymous, identity=identity or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(attachments) > settings.ATTACHMENT_MAX_FILES:
        errors["attachments"] = [_("附件数量超过上限。")]
    if errors:
        raise ValidationError(errors)

    tip = Tip(
        channel=channel,
        description=description,
        accused=(accused or "").strip(),
        sector=sector,
        region=region,
        location=(location or "").strip()[:200],
        occurred_at=occurred_at,
        anonymous=not clean_identity,
        identity_encrypted=crypto.encrypt_identity(clean_identity),
        identity_masked=crypto.mask_identity(clean_identity),
        received_at=received_at or timezone.now(),
        original_reference=(original_reference or "").strip()[:100],
        created_by=created_by,
    )
    pin = crypto.pin_new()
    stored: list[TipAttachment] = []
    try:
        with transaction.atomic():
            for attempt in range(3):
                # ~53 random bits: a clash is next to impossible, but a clash must never lose a tip.
                tip.tracking_code = crypto.tracking_code_new()
                tip.pin_hash = crypto.pin_hash(tracking_code=tip.tracking_code, pin=pin)
                try:
                    with transaction.atomic():
                        tip.save()
                    break
                except IntegrityError:
                    if attempt == 2:
                        raise
            TipEvent.objects.create(
                tip=tip,
                actor=created_by,
                kind=f"public:{PublicStatus.RECEIVED}",
                public=True,
                public_text=PUBLIC_STATUS_TEXT[PublicStatus.RECEIVED],
            )
            if created_by is not None:
                TipEvent.objects.create(
                    tip=tip,
                    actor=created_by,
                    kind="entered",
                    note=_("工作人员录入（%(channel)s）") % {"channel": tip.get_channel_display()},
                    data={"channel": channel, "original_reference": tip.original_reference},
                )
            source = TipAttachment.Source.ORIGINAL if created_by else TipAttachment.Source.INFORMANT
            stored = _store_attachments(
                tip=tip, files=list(attachments), source=source, uploaded_by=created_by
            )
            transaction.on_commit(functools.partial(_announce_committed, tip.pk), robust=True)
    except Exception:
        _delete_files(stored)
        raise
    return tip, pin


# --- follow-up and messages ----------------------------------------------------------------------
def tip_authenticate(*, tracking_code: str, pin: str) -> Tip | None:
    """The tip for a code + PIN pair, or None. Lockouts are the caller's business (reports.throttle)."""
    code = crypto.tracking_code_normalize(tracking_code)
    tip = None
    if crypto.tracking_code_is_wellformed(code):
        tip = Tip.objects.filter(tracking_code=code).select_related(None).first()
    # Compare even without a tip, so a wrong code and a wrong PIN take the same time.
    stored = tip.pin_hash if tip else crypto.pin_hash(tracking_code="-", pin="-")
    ok = crypto.pin_verify(tracking_code=code, pin=(pin or "").strip(), stored=stored)
    return tip if (tip and ok) else None


def _notify_office(*, tip: Tip, title: str, body: str = "", kind: str) -> None:
    from django.urls import reverse

    url = reverse("reports:tip_detail", args=[tip.pk])
    users = list(User.objects.filter(role=Role.OFFICE, is_active=True))
    if tip.restricted:
        # Behind a restricted lead (限制知悉范围): only the office users who may open the tip hear of it.
        from .selectors import tip_list_visible_to

        users = [u for u in users if tip_list_visible_to(u).filter(pk=tip.pk).exists()]
    Notification.objects.bulk_create(
        [Notification(user=user, kind=kind, title=title, body=body, url=url) for user in users]
    )


@transaction.atomic
def tip_message_reply(*, tip_id: int, body: str, attachments: list[CheckedFile] = ()) -> TipMessage:
    """The informant writes to the office (from the follow-up page or the public API)."""
    errors = {}
    try:
        body = validators.validate_message_body(body)
    except ValidationError as exc:
        errors["body"] = exc.messages
    if errors:
        raise ValidationError(errors)
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    message = TipMessage.objects.create(tip=tip, direction=TipMessage.Direction.FROM_INFORMANT, body=body)
    _store_attachments(
        tip=tip, files=list(attachments), source=TipAttachment.Source.INFORMANT, message=message
    )
    tip.unread_replies = min(tip.unread_replies + 1, 32767)
    tip.version += 1
    tip.save(update_fields=["unread_replies", "version"])
    _notify_office(
        tip=tip, kind="tip_reply", title=_("举报 %(code)s 有举报人新回复") % {"code": tip.tracking_code}
    )
    return message


@transaction.atomic
def tip_message_send(
    *, tip_id: int, actor: User, body: str, attachments: list[CheckedFile] = ()
) -> TipMessage:
    """The office writes to the informant, who reads it on the follow-up page."""
    if not access.can_message(actor):
        raise PermissionDenied
    try:
        body = validators.validate_message_body(body)
    except ValidationError as exc:
        raise ValidationError({"body": exc.messages})
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    message = TipMessage.objects.create(
        tip=tip, direction=TipMessage.Direction.TO_INFORMANT, body=body, author=actor
    )
    _store_attachments(
        tip=tip,
        files=list(attachments),
        source=TipAttachment.Source.OFFICE,
        uploaded_by=actor,
        message=message,
    )
    TipEvent.objects.create(tip=tip, actor=actor, kind="message", data={"message_id": message.pk})
    # Answering a thread means its replies have been read.
    tip.unread_replies = 0
    tip.version += 1
    tip.save(update_fields=["unread_replies", "version"])
    return message


def tip_messages_mark_read(*, tip_id: int, actor: User) -> None:
    if access.can_message(actor):
        Tip.objects.filter(pk=tip_id, unread_replies__gt=0).update(unread_replies=0)


# --- identity ------------------------------------------------------------------------------------
@transaction.atomic
def tip_identity_reveal(*, tip_id: int, actor: User, reason: str, ip: str | None = None) -> dict:
    """Decrypt the informant's identity for `actor`, after logging who, when and why (both logs)."""
    if not access.can_reveal_identity(actor):
        raise PermissionDenied
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": [_("请填写查看举报人身份的事由（至少 4 个字）。")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("事由最多 500 字。")]})
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    if not tip.identity_encrypted:
        raise ValidationError({"reason": [_("该举报为匿名举报，或身份信息已清除，没有可查看的身份信息。")]})
    identity = crypto.decrypt_identity(tip.identity_encrypted)
    IdentityReveal.objects.create(tip=tip, user=actor, reason=reason)
    audit_record(
        actor=actor,
        action="tip.identity_reveal",
        target=tip,
        reason=reason,
        data={"tracking_code": tip.tracking_code, "fields": sorted(identity)},
        ip=ip,
    )
    TipEvent.objects.create(tip=tip, actor=actor, kind="identity_reveal", note=reason)
    return identity


def attachment_download_record(*, attachment: TipAttachment, actor: User, ip: str | None = None) -> None:
    audit_record(
        actor=actor,
        action="tip.attachment_download",
        target=attachment,
        data={"tip_id": attachment.tip_id, "name": attachment.original_name, "sha256": attachment.sha256},
        ip=ip,
    )


# --- rewards -------------------------------------------------------------------------------------
REWARD_MAX = Decimal("1000000")


@transaction.atomic
def reward_propose(
    *,
    tip_id: int,
    actor: User,
    amount: Decimal,
    basis: str,
    lead_result: str,
    basis_note: str = "",
    first_tip_id: int | None = None,
) -> Reward:
    """The office proposes a reward for a tip whose lead was substantiated."""
    if actor.role != Role.OFFICE:
        raise PermissionDenied
    tip = Tip.objects.select_for_update().get(pk=tip_id)
    errors: dict[str, list[str]] = {}
    if tip.status not in (TipStatus.REGISTERED, TipStatus.MERGED):
        errors["tip"] = [_("只有已登记为线索（或并入线索）且经查证属实的举报才能申请奖励。")]
    if amount is None or amount <= 0:
        errors["amount"] = [_("奖励金额应大于 0。")]
    elif amount > REWARD_MAX:
        errors["amount"] = [_("奖励金额超过上限，请按规定另行报批。")]
    if basis not in Reward.Basis.values:
        errors["basis"] = [_("请选择奖励依据。")]
    if lead_result not in Reward.LeadResult.values:
        errors["lead_result"] = [_("只有核查结论为“查实”或“部分属实”的线索才能奖励。")]
    first_tip = tip
    if first_tip_id and first_tip_id != tip.pk:
        first_tip = Tip.objects.filter(pk=first_tip_id).first()
        if first_tip is None:
            errors["first_tip"] = [_("首报举报不存在。")]
        elif first_tip.received_at > tip.received_at:
            errors["first_tip"] = [_("首报举报的收到时间不能晚于本举报。")]
    if Reward.objects.filter(tip=tip).exclude(status=Reward.Status.REJECTED).exists():
        errors["tip"] = [_("该举报已有奖励记录。")]
    if errors:
        raise ValidationError(errors)
    reward = Reward.objects.create(
        tip=tip,
        amount=amount,
        basis=basis,
        basis_note=(basis_note or "").strip(),
        lead_result=lead_result,
        first_tip=first_tip,
        proposed_by=actor,
    )
    TipEvent.objects.create(
        tip=tip, actor=actor, kind="reward:proposed", data={"reward_id": reward.pk, "amount": str(amount)}
    )
    audit_record(actor=actor, action="reward.propose", target=reward, data={"amount": str(amount)})
    return reward


@transaction.atomic
def reward_decide(*, reward_id: int, actor: User, approve: bool, note: str = "") -> Reward:
    """A leader approves or rejects a proposal; approval tells the informant how to claim it."""
    if not access.can_decide_reward(actor):
        raise PermissionDenied
    reward = Reward.objects.select_for_update().select_related("tip").get(pk=reward_id)
    if reward.status != Reward.Status.PROPOSED:
        raise ValidationError({"status": [_("该奖励已审批，不能重复审批。")]})
    if reward.proposed_by_id == actor.pk:
        raise ValidationError({"status": [_("提出人不能审批自己提出的奖励。")]})
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"decision_note": [_("不予批准时请填写理由。")]})
    reward.status = Reward.Status.APPROVED if approve else Reward.Status.REJECTED
    reward.decided_by = actor
    reward.decided_at = timezone.now()
    reward.decision_note = note
    reward.version += 1
    reward.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "version"])
    TipEvent.objects.create(
        tip=reward.tip,
        actor=actor,
        kind=f"reward:{reward.status}",
        public=approve,
        public_text=_(
            "您的举报经查证属实，可以领取举报奖励。请在本页给我们留言，或凭查询码和查询密码到市扫黑办领取；"
            "领取时只需核对必要的身份信息。"
        )
        if approve
        else "",
        note=note,
        data={"reward_id": reward.pk},
    )
    audit_record(actor=actor, action=f"reward.{reward.status}", target=reward, reason=note)
    return reward


@transaction.atomic
def reward_record_payment(
    *, reward_id: int, actor: User, paid_on: dt.date, method: str, reference: str = ""
) -> Reward:
    if actor.role != Role.OFFICE:
        raise PermissionDenied
    reward = Reward.objects.select_for_update().select_related("tip").get(pk=reward_id)
    errors: dict[str, list[str]] = {}
    if reward.status != Reward.Status.APPROVED:
        errors["status"] = [_("只有已批准的奖励才能登记发放。")]
    if not paid_on:
        errors["paid_on"] = [_("请填写发放日期。")]
    elif paid_on > timezone.localdate():
        errors["paid_on"] = [_("日期不能晚于今天。")]
    elif reward.decided_at and paid_on < timezone.localtime(reward.decided_at).date():
        errors["paid_on"] = [_("发放日期不能早于批准日期。")]
    if method not in Reward.PaymentMethod.values:
        errors["payment_method"] = [_("请选择发放方式。")]
    if errors:
        raise ValidationError(errors)
    reward.status = Reward.Status.PAID
    reward.paid_on = paid_on
    reward.payment_method = method
    reward.payment_reference = (reference or "").strip()[:100]
    reward.paid_recorded_by = actor
    reward.version += 1
    reward.save(
        update_fields=[
            "status",
            "paid_on",
            "payment_method",
            "payment_reference",
            "paid_recorded_by",
            "version",
        ]
    )
    TipEvent.objects.create(
        tip=reward.tip,
        actor=actor,
        kind="reward:paid",
        public=True,
        public_text=_("举报奖励已发放。感谢您对扫黑除恶专项斗争的支持。"),
        data={"reward_id": reward.pk},
    )
    audit_record(actor=actor, action="reward.paid", target=reward, data={"method": method})
    return reward


# --- publicity and typical cases -----------------------------------------------------------------
@transaction.atomic
def publicity_record(
    *,
    actor: User,
    unit: Unit,
    held_on: dt.date,
    kind: str,
    place: str = "",
    reach: int = 0,
    description: str = "",
) -> PublicityActivity:
    """Record one publicity activity (宣传发动) for a unit; unit roles record only their own unit's."""
    if not access.can_record_publicity_for(actor, unit):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if not held_on:
        errors["held_on"] = [_("请填写活动日期。")]
    elif held_on > timezone.localdate():
        errors["held_on"] = [_("日期不能晚于今天。")]
    if kind not in PublicityActivity.Kind.values:
        errors["kind"] = [_("请选择活动形式。")]
    if reach is None or reach < 0:
        errors["reach"] = [_("覆盖人数不能为负数。")]
    if errors:
        raise ValidationError(errors)
    return PublicityActivity.objects.create(
        unit=unit,
        held_on=held_on,
        kind=kind,
        place=(place or "").strip()[:120],
        reach=reach or 0,
        description=(description or "").strip(),
        created_by=actor,
    )


@transaction.atomic
def typical_case_save(*, actor: User, case_id: int | None = None, **fields) -> TypicalCase:
    """Create or edit a typical case (anonymised summary); publishing is a separate step."""
    if actor.role != Role.OFFICE:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    title = (fields.get("title") or "").strip()
    summary = (fields.get("summary") or "").strip()
    if not title:
        errors["title"] = [_("请填写标题。")]
    if not summary:
        errors["summary"] = [_("请填写案情摘要。")]
    if errors:
        raise ValidationError(errors)
    if case_id:
        case = TypicalCase.objects.select_for_update().get(pk=case_id)
    else:
        case = TypicalCase(created_by=actor)
    case.title = title[:120]
    case.summary = summary
    case.outcome = (fields.get("outcome") or "").strip()
    case.sector = fields.get("sector")
    case.region = fields.get("region")
    case.save()
    return case


@transaction.atomic
def typical_case_publish(*, case_id: int, actor: User, publish: bool) -> TypicalCase:
    if actor.role != Role.OFFICE:
        raise PermissionDenied
    case = TypicalCase.objects.select_for_update().get(pk=case_id)
    case.is_published = publish
    if publish and not case.published_on:
        case.published_on = timezone.localdate()
    case.save(update_fields=["is_published", "published_on", "updated_at"])
    audit_record(actor=actor, action="case.publish" if publish else "case.unpublish", target=case)
    return case
