"""Audit rows for logins, failures, codes, lockouts, logouts, tokens and role/permission changes; the
audit search page and its CSV export (exports are audited themselves)."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from campaign.audit import audit_record
from campaign.demo import DEMO_PASSWORD
from campaign.models import AuditEntry, User
from campaign.roles import Role

from .conftest import code_now, login_through_pages

pytestmark = pytest.mark.django_db


def test_login_success_is_audited_with_channel_and_second_factor(client, users):
    login_through_pages(client, "office")
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == users["office"] and entry.actor_name == "office"
    assert entry.ip == "127.0.0.1"
    assert entry.data == {"channel": "web", "otp": "totp"}


def test_login_without_second_factor_is_audited_too(client, users):
    client.post(reverse("login"), {"username": "leader", "password": DEMO_PASSWORD})
    assert AuditEntry.objects.get(action="auth.login").data == {"channel": "web", "otp": None}


def test_wrong_password_is_audited_also_for_unknown_names(client, users):
    client.post(reverse("login"), {"username": "office", "password": "wrong"})
    client.post(reverse("login"), {"username": "ghost", "password": "wrong"})
    known, unknown = AuditEntry.objects.filter(action="auth.login_failed").order_by("id")
    assert known.actor == users["office"] and known.data["reason"] == "password"
    assert unknown.actor is None and unknown.actor_name == "ghost"
    assert "password" not in str(unknown.data).replace("'reason': 'password'", "")


def test_wrong_code_is_audited(client, users):
    client.post(reverse("login"), {"username": "office", "password": DEMO_PASSWORD})
    client.post(reverse("login-otp"), {"otp_token": "000000" if code_now() != "000000" else "111111"})
    entry = AuditEntry.objects.get(action="auth.otp_failed")
    assert entry.actor == users["office"] and entry.data["channel"] == "web"


def test_logout_and_token_are_audited(client, api_client, users):
    login_through_pages(client, "leader")
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor=users["leader"]).exists()
    api_client.post("/api/v1/auth/token/", {"username": "leader", "password": DEMO_PASSWORD}, format="json")
    assert AuditEntry.objects.filter(action="auth.token", actor=users["leader"]).exists()


def _change_form_data(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "role": user.role,
        "unit": user.unit_id or "",
        "display_name": user.display_name,
        "title": user.title,
        "phone": user.phone,
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
    }
    for flag in ("is_active", "is_staff", "is_superuser", "is_office_leader"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_role_and_unit_change_through_admin_is_audited(client_as, users, units):
    liaison = users["liaison_transport"]
    admin_client = client_as("admin")
    url = reverse("admin:campaign_user_change", args=[liaison.pk])
    response = admin_client.post(url, _change_form_data(liaison, role=Role.OFFICE, unit=units["office"].pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action="user.role_changed")
    assert entry.actor == users["admin"]
    assert entry.target_type == "campaign.user" and entry.target_id == str(liaison.pk)
    assert entry.data["changes"]["role"] == ["liaison", "office"]
    assert entry.data["changes"]["unit"] == ["transport", "office"]


def test_superuser_flag_groups_and_permissions_changes_are_audited(client_as, users):
    leader = users["leader"]
    group = Group.objects.create(name="督导组")
    perm = Permission.objects.get(codename="view_auditentry")
    admin_client = client_as("admin")
    url = reverse("admin:campaign_user_change", args=[leader.pk])
    response = admin_client.post(
        url, _change_form_data(leader, groups=[group.pk], user_permissions=[perm.pk])
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="user.permissions_changed")
    assert entry.data["changes"]["groups"] == [[], ["督导组"]]
    assert entry.data["changes"]["user_permissions"] == [[], ["campaign.view_auditentry"]]

    leader.refresh_from_db()
    response = admin_client.post(url, _change_form_data(leader, is_superuser="on"))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="user.role_changed")
    assert entry.data["changes"]["is_superuser"] == [False, True]


def test_saving_a_user_without_access_changes_writes_no_row(client_as, users):
    leader = users["leader"]
    admin_client = client_as("admin")
    url = reverse("admin:campaign_user_change", args=[leader.pk])
    assert admin_client.post(url, _change_form_data(leader, title="副市长")).status_code == 302
    assert not AuditEntry.objects.filter(action__startswith="user.").exists()


def test_moving_into_a_required_role_revokes_the_api_token(client_as, api_client, users, units):
    from rest_framework.authtoken.models import Token

    liaison = users["liaison_housing"]
    Token.objects.create(user=liaison)
    admin_client = client_as("admin")
    url = reverse("admin:campaign_user_change", args=[liaison.pk])
    admin_client.post(url, _change_form_data(liaison, role=Role.POLICE, unit=units["police"].pk))
    assert not Token.objects.filter(user=liaison).exists()
    assert AuditEntry.objects.get(action="user.role_changed").data["tokens_revoked"] == 1


def test_group_permission_change_is_audited(client_as, users):
    group = Group.objects.create(name="审计查看")
    perm = Permission.objects.get(codename="view_auditentry")
    admin_client = client_as("admin")
    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"name": "审计查看", "permissions": [perm.pk]}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="group.permissions_changed")
    assert entry.data["before"] == [] and entry.data["after"] == ["campaign.view_auditentry"]


# --- search and export ----------------------------------------------------------------------------
def test_audit_search_page_is_for_administrators_only(client_as, users):
    url = reverse("admin:campaign_auditentry_changelist")
    audit_record(actor=users["office"], action="auth.login")
    response = client_as("admin").get(url, {"action": "auth.*", "actor_name": "office"})
    assert response.status_code == 200
    assert "导出 CSV" in response.content.decode()
    # office staff are not admin-site users at all
    assert client_as("office").get(url).status_code == 302


def test_audit_search_filters_by_date_range(client_as, users):
    from django.utils import timezone

    audit_record(actor=users["office"], action="test.today")
    today = timezone.localdate().isoformat()
    url = reverse("admin:campaign_auditentry_changelist")
    admin_client = client_as("admin")
    response = admin_client.get(url, {"date_from": today, "date_to": today, "action": "test.today"})
    assert response.context["cl"].result_count == 1
    assert f'value="{today}"' in response.content.decode()  # the form shows the range it applied
    response = admin_client.get(
        url, {"date_from": "2001-01-01", "date_to": "2001-01-31", "action": "test.today"}
    )
    assert response.context["cl"].result_count == 0
    assert admin_client.get(url, {"date_from": "not-a-date"}).status_code in (200, 302)


def test_export_follows_the_filters_and_is_audited(client_as, users):
    audit_record(actor=users["office"], action="auth.login", reason="=HYPERLINK(evil)")
    audit_record(actor=users["police"], action="reports.reveal", reason="核查需要")
    admin_client = client_as("admin")
    response = admin_client.get(reverse("admin:campaign_auditentry_export"), {"action": "auth.login"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时间", "操作人", "操作"]
    actions = {row[2] for row in rows[1:]}
    assert actions == {"auth.login"}
    assert any(row[5] == "'=HYPERLINK(evil)" for row in rows[1:])  # no formula in a spreadsheet
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor == users["admin"] and export.data["filters"] == {"action": "auth.login"}
    assert export.data["rows"] == len(rows) - 1


def test_export_of_selected_rows_is_audited(client_as, users):
    entry = audit_record(actor=users["office"], action="auth.login")
    response = client_as("admin").post(
        reverse("admin:campaign_auditentry_changelist"),
        {"action": "export_selected", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.count("\n") == 2
    assert AuditEntry.objects.filter(action="audit.export", data__rows=1).exists()


def test_export_is_refused_to_non_administrators(client, users):
    users["leader"].is_staff = True
    users["leader"].save(update_fields=["is_staff"])
    client.force_login(users["leader"])
    response = client.get(reverse("admin:campaign_auditentry_export"))
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_audit_rows_cannot_be_changed_in_the_admin(client_as, users):
    entry = audit_record(actor=users["office"], action="auth.login")
    admin_client = client_as("admin")
    url = reverse("admin:campaign_auditentry_change", args=[entry.pk])
    admin_client.post(url, {"action": "tampered"})
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login"
    assert admin_client.post(reverse("admin:campaign_auditentry_delete", args=[entry.pk])).status_code == 403
