"""notify(): dedupe per user, outbox rows only for new notifications, sends queued after commit only."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from campaign import notifications as n
from campaign.models import Notification, OutboundMessage
from campaign.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Record send_outbound publications instead of talking to Redis."""
    from campaign.tasks import send_outbound

    calls: list[int] = []
    monkeypatch.setattr(send_outbound, "apply_async", lambda args, **kw: calls.append(args[0]))
    return calls


def test_same_dedupe_key_twice_makes_one_notification_and_one_email(
    users, queued, django_capture_on_commit_callbacks
):
    user = users["liaison_housing"]
    with django_capture_on_commit_callbacks(execute=True):
        first = n.notify(
            users=[user],
            kind="lead.assigned",
            title="新交办线索",
            url="/leads/1/",
            dedupe_key="lead:1:assigned",
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = n.notify(
            users=[user],
            kind="lead.assigned",
            title="新交办线索",
            url="/leads/1/",
            dedupe_key="lead:1:assigned",
        )
    assert first.created == 1 and second.created == 0
    assert second.outbound_ids == []
    assert Notification.objects.filter(user=user).count() == 1
    emails = OutboundMessage.objects.filter(channel="email", recipient=user.email)
    assert emails.count() == 1
    assert queued == [emails.get().pk]  # the second call queued nothing


def test_dedupe_key_is_per_user(users, queued, django_capture_on_commit_callbacks):
    a, b = users["liaison_housing"], users["unit_head_housing"]
    n.notify(users=[a], kind="k", title="t", dedupe_key="evt:1")
    result = n.notify(users=[a, b], kind="k", title="t", dedupe_key="evt:1")
    assert result.created == 1
    assert set(Notification.objects.values_list("user__username", flat=True)) == {a.username, b.username}
    assert OutboundMessage.objects.filter(channel="email").count() == 2


def test_without_dedupe_key_every_call_notifies(users):
    user = users["office"]
    n.notify(users=user, kind="k", title="t", email=False)
    n.notify(users=user, kind="k", title="t", email=False)
    assert Notification.objects.filter(user=user).count() == 2
    assert not OutboundMessage.objects.exists()


def test_sms_goes_to_users_with_a_phone_and_email_to_users_with_an_address(users):
    with_phone = users["liaison_housing"]
    no_contact = users["liaison_transport"]
    no_contact.email = ""
    no_contact.phone = ""
    no_contact.save(update_fields=["email", "phone"])
    result = n.notify(
        users=[with_phone, no_contact], kind="k", title="请签收线索", sms=True, dedupe_key="signfor:7"
    )
    assert result.created == 2  # both see it in the portal
    rows = OutboundMessage.objects.order_by("channel")
    assert [(m.channel, m.recipient) for m in rows] == [
        ("email", with_phone.email),
        ("sms", with_phone.phone),
    ]
    sms = rows.get(channel="sms")
    assert sms.body.startswith("【焦作市扫黑办】请签收线索")
    assert sms.dedupe_key == f"signfor:7:u{with_phone.pk}:sms"


def test_email_body_has_greeting_and_absolute_link(users, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.gov.cn"
    n.notify(users=[users["office"]], kind="k", title="线索逾期", body="JZ2026-001 已逾期", url="/leads/5/")
    mail = OutboundMessage.objects.get()
    assert "线索逾期" in mail.subject
    assert "https://portal.example.gov.cn/leads/5/" in mail.body
    assert "JZ2026-001 已逾期" in mail.body


def test_inactive_users_and_empty_lists_get_nothing(users):
    user = users["liaison_market"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert n.notify(users=[user], kind="k", title="t").created == 0
    assert n.notify(users=[], kind="k", title="t").created == 0
    assert not Notification.objects.exists()


def test_long_dedupe_key_fits_the_column(users):
    key = "x" * 400
    n.notify(users=[users["office"]], kind="k", title="t", dedupe_key=key)
    assert n.notify(users=[users["office"]], kind="k", title="t", dedupe_key=key).created == 0
    assert len(Notification.objects.get().dedupe_key) <= 200


def test_sends_are_queued_only_after_commit(users, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        result = n.notify(users=[users["office"]], kind="k", title="t", dedupe_key="c:1")
        assert queued == []  # nothing leaves before commit
    assert queued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == result.outbound_ids and len(queued) == 1


def test_rolled_back_transaction_sends_nothing(users, queued, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        n.notify(users=[users["office"]], kind="k", title="t", dedupe_key="rb:1")
        raise RuntimeError("the caller's write failed")
    assert callbacks == []
    assert queued == []
    assert not Notification.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_queueing_failure_does_not_break_the_caller(users, monkeypatch, django_capture_on_commit_callbacks):
    from campaign.tasks import send_outbound

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(send_outbound, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        result = n.notify(users=[users["office"]], kind="k", title="t")
    assert result.created == 1
    assert OutboundMessage.objects.get().status == "pending"  # the sweep will send it


def test_recipient_helpers(users, units):
    housing = set(n.users_for_unit(units["housing"]).values_list("username", flat=True))
    assert housing == {"liaison_housing", "unit_head_housing"}
    heads = n.users_for_unit(units["housing"].pk, roles=[Role.UNIT_HEAD])
    assert [u.username for u in heads] == ["unit_head_housing"]
    assert {"office", "office_leader"} <= set(n.office_users().values_list("username", flat=True))
    assert set(n.office_users(leaders_only=True).values_list("username", flat=True)) == {"office_leader"}


def test_mark_read_and_mark_all_read(users):
    user, other = users["office"], users["police"]
    ids = n.notify(users=[user], kind="k", title="a", email=False).notification_ids
    n.notify(users=[user], kind="k", title="b", email=False)
    theirs = n.notify(users=[other], kind="k", title="c", email=False).notification_ids[0]
    assert n.notification_unread_count(user) == 2
    n.notification_mark_read(user=user, notification_id=ids[0])
    first_read = Notification.objects.get(pk=ids[0]).read_at
    n.notification_mark_read(user=user, notification_id=ids[0])  # again: keeps the first time
    assert Notification.objects.get(pk=ids[0]).read_at == first_read
    assert n.notification_unread_count(user) == 1
    with pytest.raises(Notification.DoesNotExist):
        n.notification_mark_read(user=user, notification_id=theirs)
    assert Notification.objects.get(pk=theirs).read_at is None
    assert n.notification_mark_all_read(user=user) == 1
    assert n.notification_unread_count(user) == 0
    assert n.notification_unread_count(other) == 1


def test_list_puts_unread_first(users):
    user = users["office"]
    old = n.notify(users=[user], kind="k", title="old unread", email=False).notification_ids[0]
    read = n.notify(users=[user], kind="k", title="newer read", email=False).notification_ids[0]
    n.notification_mark_read(user=user, notification_id=read)
    Notification.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(days=3))
    titles = [x.title for x in n.notification_list_for(user)]
    assert titles == ["old unread", "newer read"]
    assert [x.title for x in n.notification_list_for(user, unread_only=True)] == ["old unread"]


# --- daily digest ---------------------------------------------------------------------------------
def test_daily_digest_one_email_per_unit_head_per_day(users, queued, django_capture_on_commit_callbacks):
    head = users["unit_head_housing"]
    now = timezone.now()
    n.notify(users=[head], kind="lead.overdue", title="线索 JZ-1 已逾期", url="/leads/1/", email=False)
    n.notify(users=[head], kind="lead.overdue", title="线索 JZ-2 已逾期", email=False)
    stale = n.notify(users=[head], kind="k", title="两天前的通知", email=False).notification_ids[0]
    Notification.objects.filter(pk=stale).update(created_at=now - dt.timedelta(days=2))
    read = n.notify(users=[head], kind="k", title="已读通知", email=False).notification_ids[0]
    n.notification_mark_read(user=head, notification_id=read)
    n.notify(users=[users["liaison_housing"]], kind="k", title="联络员的通知", email=False)

    with django_capture_on_commit_callbacks(execute=True):
        counts = n.digest_send_daily(now=now + dt.timedelta(seconds=1))
    assert counts == {"heads": 1, "emails": 1}
    mail = OutboundMessage.objects.get()
    assert mail.recipient == head.email
    assert "2 条未读通知" in mail.body
    assert "JZ-1" in mail.body and "JZ-2" in mail.body
    assert "两天前" not in mail.body and "已读通知" not in mail.body
    assert queued == [mail.pk]

    # Later the same local day (an hour later crosses midnight when the suite runs at 23:xx Beijing time).
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=0)
    again = n.digest_send_daily(now=min(now + dt.timedelta(hours=1), end_of_day))
    assert again["emails"] == 0
    assert OutboundMessage.objects.count() == 1


def test_daily_digest_skips_heads_with_nothing_unread(users):
    assert n.digest_send_daily() == {"heads": 0, "emails": 0}
    assert not OutboundMessage.objects.exists()
