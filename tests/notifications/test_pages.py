"""Notification centre pages and the navbar badge; the API lists and reads only one's own."""

import pytest
from django.urls import reverse

from campaign.models import Notification
from campaign.notifications import notify

pytestmark = pytest.mark.django_db


def _n(user, title="通知", url="", **kw):
    return notify(users=[user], kind="test", title=title, url=url, email=False, **kw).notification_ids[0]


def test_badge_shows_unread_count_in_navbar(login, users):
    _n(users["liaison_housing"], "一")
    _n(users["liaison_housing"], "二")
    _n(users["office"], "别人的")
    html = login("liaison_housing").get(reverse("notifications")).content.decode()
    assert 'id="notification-badge"' in html
    assert 'data-unread="2"' in html
    assert (
        '<span class="badge rounded-pill text-bg-danger notification-count" aria-hidden="true">2</span>'
        in html
    )


def test_badge_without_unread_has_no_number(login, users):
    html = login("leader").get(reverse("notifications")).content.decode()
    assert 'data-unread="0"' in html
    assert "notification-count" not in html


def test_badge_caps_at_99(login, users):
    Notification.objects.bulk_create(
        [Notification(user=users["office"], kind="k", title=str(i)) for i in range(120)]
    )
    html = login("office").get(reverse("notifications")).content.decode()
    assert ">99+</span>" in html


def test_badge_costs_one_query(login, users, django_assert_num_queries):
    from django.test import RequestFactory

    from campaign.context_processors import notifications

    request = RequestFactory().get("/")
    request.user = users["office"]
    count = notifications(request)["notification_unread_count"]
    with django_assert_num_queries(1):
        assert count() == 0
        assert count() == 0  # cached for the rest of the page


def test_public_pages_do_not_count(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        client.get("/")


def test_every_role_sees_the_list_unread_first(login, users):
    for username in (
        "office",
        "police",
        "liaison_housing",
        "unit_head_housing",
        "leader",
        "discipline",
        "admin",
    ):
        _n(users[username], f"给{username}的通知")
        response = login(username).get(reverse("notifications"))
        assert response.status_code == 200, username
        assert f"给{username}的通知" in response.content.decode()


def test_list_shows_only_own_and_unread_first(login, users):
    me = users["liaison_housing"]
    read = _n(me, "已读的旧通知")
    Notification.objects.filter(pk=read).update(read_at="2026-01-01T00:00:00Z")
    _n(me, "未读的通知")
    _n(users["liaison_transport"], "交通局的通知")
    html = login("liaison_housing").get(reverse("notifications")).content.decode()
    assert html.index("未读的通知") < html.index("已读的旧通知")
    assert "交通局的通知" not in html
    unread_only = login("liaison_housing").get(reverse("notifications") + "?unread=1").content.decode()
    assert "未读的通知" in unread_only and "已读的旧通知" not in unread_only


def test_empty_state(login, users):
    html = login("leader").get(reverse("notifications")).content.decode()
    assert "暂无通知" in html


def test_list_page_query_budget(login, users, django_assert_max_num_queries):
    Notification.objects.bulk_create(
        [Notification(user=users["office"], kind="k", title=str(i)) for i in range(80)]
    )
    client = login("office")
    client.get(reverse("notifications"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("notifications") + "?page=2")
    assert response.status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_mark_read_goes_to_its_url(login, users):
    pk = _n(users["liaison_housing"], "线索已交办", url="/home/")
    client = login("liaison_housing")
    response = client.post(reverse("notification-read", args=[pk]))
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert Notification.objects.get(pk=pk).read_at is not None
    assert 'data-unread="0"' in client.get(reverse("notifications")).content.decode()


def test_mark_read_never_redirects_off_site(login, users):
    pk = _n(users["office"], "可疑链接", url="https://evil.example/phish")
    response = login("office").post(reverse("notification-read", args=[pk]))
    assert response["Location"] == reverse("notifications")


def test_mark_read_needs_post(login, users):
    pk = _n(users["office"])
    assert login("office").get(reverse("notification-read", args=[pk])).status_code == 405
    assert Notification.objects.get(pk=pk).read_at is None


def test_another_users_notification_is_404_and_stays_unread(login, users):
    pk = _n(users["liaison_transport"])
    response = login("liaison_housing").post(reverse("notification-read", args=[pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=pk).read_at is None


def test_mark_all_read(login, users):
    me = users["unit_head_housing"]
    _n(me, "一")
    _n(me, "二")
    other = _n(users["office"])
    client = login("unit_head_housing")
    response = client.post(reverse("notifications-read-all"), follow=True)
    assert "已将 2 条通知标为已读" in response.content.decode()
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=other).read_at is None


# --- API -------------------------------------------------------------------------------------------
def test_api_lists_own_notifications_paginated(api_as, users):
    _n(users["liaison_housing"], "我的一")
    _n(users["liaison_housing"], "我的二")
    _n(users["office"], "别人的")
    body = api_as("liaison_housing").get("/api/v1/notifications/").json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == 2
    assert {r["title"] for r in body["results"]} == {"我的一", "我的二"}
    assert set(body["results"][0]) >= {
        "id",
        "kind",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
        "is_read",
    }


def test_api_unread_filter_and_count(api_as, users):
    me = users["office"]
    read = _n(me, "已读")
    _n(me, "未读")
    api = api_as("office")
    assert api.post(f"/api/v1/notifications/{read}/read/").status_code == 200
    body = api.get("/api/v1/notifications/?unread=true").json()
    assert [r["title"] for r in body["results"]] == ["未读"]
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}


def test_api_mark_read_returns_the_notification(api_as, users):
    pk = _n(users["police"], "受理提醒")
    response = api_as("police").post(f"/api/v1/notifications/{pk}/read/")
    assert response.status_code == 200
    assert response.json()["id"] == pk and response.json()["is_read"] is True


def test_api_another_users_notification_is_404(api_as, users):
    pk = _n(users["office"], "办公室的")
    response = api_as("liaison_housing").post(f"/api/v1/notifications/{pk}/read/")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert Notification.objects.get(pk=pk).read_at is None


def test_api_read_all(api_as, users):
    _n(users["leader"])
    _n(users["leader"])
    other = _n(users["office"])
    assert api_as("leader").post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert Notification.objects.get(pk=other).read_at is None


def test_api_requires_login(api_client, users):
    response = api_client.get("/api/v1/notifications/")
    assert response.status_code in (401, 403)


def test_api_list_query_budget(api_as, users, django_assert_max_num_queries):
    Notification.objects.bulk_create(
        [Notification(user=users["office"], kind="k", title=str(i)) for i in range(120)]
    )
    api = api_as("office")
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/notifications/?page_size=100").json()
    assert body["count"] == 120 and len(body["results"]) == 100
