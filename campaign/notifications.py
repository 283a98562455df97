"""Notifications: the in-app notification centre, with email/SMS copies through the outbox.

Every feature notifies through `notify(...)` inside its own transaction. With a `dedupe_key` the same
event never notifies a user twice (escalation levels, task retries, two beats at once): the key is
scoped per user, and the email/SMS copy goes out only with a notification that was actually created.
Keep informant identity out of titles and bodies: emails and SMS leave the portal.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .messaging import Outgoing, insert_new_rows, outbound_enqueue_many, scoped_key
from .models import Notification, OutboundMessage, Unit, User
from .roles import Role


@dataclass(frozen=True)
class NotifyResult:
    notification_ids: list[int] = field(default_factory=list)
    outbound_ids: list[int] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.notification_ids)


# --- recipients ----------------------------------------------------------------------------------
def users_for_unit(
    unit: Unit | int, roles: Iterable[str] = (Role.LIAISON, Role.UNIT_HEAD)
) -> models.QuerySet:
    """Active users of a unit with one of `roles` (default: its liaisons and its head)."""
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    return User.objects.filter(unit_id=unit_id, role__in=list(roles), is_active=True)


def office_users(*, leaders_only: bool = False) -> models.QuerySet:
    """Active office staff (扫黑办), or only its leaders."""
    qs = User.objects.filter(role=Role.OFFICE, is_active=True)
    return qs.filter(is_office_leader=True) if leaders_only else qs


def _user_ids(users) -> list[int]:
    if isinstance(users, User | int):
        users = [users]
    if isinstance(users, models.QuerySet):
        return list(users.values_list("pk", flat=True))
    ids = (u if isinstance(u, int) else u.pk for u in users)
    return list(dict.fromkeys(ids))


def _absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + url.lstrip("/")


def _email_text(user: User, title: str, body: str, url: str) -> str:
    lines = [_("%(name)s，您好：") % {"name": user}, "", title]
    if body:
        lines += ["", body]
    if url:
        lines += ["", _("查看详情：%(url)s") % {"url": _absolute(url)}]
    lines += ["", _("—— 焦作市扫黑除恶线索管理平台（系统自动发送，请勿直接回复）")]
    return "\n".join(lines)


def _sms_text(title: str) -> str:
    return f"{settings.SMS_SIGNATURE}{title}" + _("，请登录平台查看。")


# --- writes --------------------------------------------------------------------------------------
@transaction.atomic
def notify(
    *,
    users,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str | None = None,
    email: bool = True,
    sms: bool = False,
) -> NotifyResult:
    """Notify `users` (User objects, ids or a queryset) in the caller's transaction.

    With `dedupe_key`, a user who already has a notification with that key gets nothing new (no second
    notification, no second email/SMS). Email goes to users with an address, SMS to users with a phone;
    both are sent after commit, outside the transaction.
    """
    ids = _user_ids(users)
    if not ids:
        return NotifyResult()
    recipients = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    title = title[:200]
    objs = [
        Notification(
            user_id=pk,
            kind=kind[:40],
            title=title,
            body=body,
            url=url[:300],
            dedupe_key=scoped_key(dedupe_key, f"u{pk}") if dedupe_key else None,
        )
        for pk in ids
        if pk in recipients
    ]
    created = insert_new_rows(Notification, objs, returning=["id", "user"])
    outgoing: list[Outgoing] = []
    for _nid, user_id in created:
        user = recipients[user_id]
        if email and user.email:
            outgoing.append(
                Outgoing(
                    channel=OutboundMessage.Channel.EMAIL,
                    recipient=user.email,
                    subject=_("【扫黑除恶线索管理平台】%(title)s") % {"title": title},
                    body=_email_text(user, title, body, url),
                    dedupe_key=scoped_key(dedupe_key, f"u{user_id}", "email") if dedupe_key else None,
                )
            )
        if sms and user.phone:
            outgoing.append(
                Outgoing(
                    channel=OutboundMessage.Channel.SMS,
                    recipient=user.phone,
                    body=_sms_text(title),
                    dedupe_key=scoped_key(dedupe_key, f"u{user_id}", "sms") if dedupe_key else None,
                )
            )
    outbound_ids = outbound_enqueue_many(messages=outgoing)
    return NotifyResult(notification_ids=[row[0] for row in created], outbound_ids=outbound_ids)


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; raises Notification.DoesNotExist for anyone else's."""
    notification = Notification.objects.select_for_update().get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- reads ---------------------------------------------------------------------------------------
def notification_unread_count(user: User) -> int:
    """One COUNT over the partial index of unread notifications."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_list_for(user: User, *, unread_only: bool = False) -> models.QuerySet:
    """The user's own notifications, unread first, newest first within each group."""
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.annotate(
        is_unread=models.ExpressionWrapper(models.Q(read_at__isnull=True), output_field=models.BooleanField())
    ).order_by("-is_unread", "-created_at", "-id")


# --- daily digest for unit heads -----------------------------------------------------------------
DIGEST_MAX_ITEMS = 20


def digest_send_daily(*, now: dt.datetime | None = None) -> dict:
    """One email per unit head summarising their unread notifications of the last day.

    Idempotent per user and day (dedupe key `digest:<date>:u<id>`): a second run the same day sends
    nothing; a head with no unread notifications gets no email.
    """
    now = now or timezone.now()
    since = now - dt.timedelta(days=1)
    day = timezone.localdate(now)
    recent = models.Q(
        notifications__read_at__isnull=True,
        notifications__created_at__gte=since,
        notifications__created_at__lt=now,
    )
    heads = list(
        User.objects.filter(role=Role.UNIT_HEAD, is_active=True)
        .exclude(email="")
        .annotate(unread=models.Count("notifications", filter=recent))
        .filter(unread__gt=0)
        .select_related("unit")
    )
    if not heads:
        return {"heads": 0, "emails": 0}
    items: dict[int, list[Notification]] = {h.pk: [] for h in heads}
    window = Notification.objects.filter(
        user_id__in=list(items), read_at__isnull=True, created_at__gte=since, created_at__lt=now
    ).order_by("user_id", "-created_at")
    for n in window.only("id", "user_id", "title", "url", "created_at"):
        if len(items[n.user_id]) < DIGEST_MAX_ITEMS:
            items[n.user_id].append(n)
    outgoing = []
    for head in heads:
        lines = [
            _("%(name)s，您好：") % {"name": head},
            "",
            _("过去一天您有 %(count)s 条未读通知：") % {"count": head.unread},
            "",
        ]
        for n in items[head.pk]:
            when = timezone.localtime(n.created_at).strftime("%m-%d %H:%M")
            lines.append(f"· {when} {n.title}" + (f"  {_absolute(n.url)}" if n.url else ""))
        if head.unread > len(items[head.pk]):
            lines.append(_("…… 另有 %(more)s 条") % {"more": head.unread - len(items[head.pk])})
        lines += [
            "",
            _("请登录平台查看处理：%(url)s") % {"url": _absolute("/notifications/")},
            "",
            _("—— 焦作市扫黑除恶线索管理平台（系统自动发送，请勿直接回复）"),
        ]
        outgoing.append(
            Outgoing(
                channel=OutboundMessage.Channel.EMAIL,
                recipient=head.email,
                subject=_("【扫黑除恶线索管理平台】每日待办摘要（%(date)s）") % {"date": day.isoformat()},
                body="\n".join(lines),
                dedupe_key=f"digest:{day.isoformat()}:u{head.pk}",
            )
        )
    with transaction.atomic():
        ids = outbound_enqueue_many(messages=outgoing)
    return {"heads": len(heads), "emails": len(ids)}
