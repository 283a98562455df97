import csv
import datetime as dt
import json

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import security, workdays
from .audit import audit_record
from .models import (
    AuditEntry,
    CalendarDay,
    CalendarYear,
    Phase,
    PublicityActivity,
    Region,
    Sector,
    Unit,
    User,
)
from .roles import Role


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "sort_order"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "short_name", "kind", "region", "head_name", "hotline", "is_active"]
    list_filter = ["kind", "is_active", "region"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lead_unit", "expected_leads_per_year", "sort_order"]
    search_fields = ["code", "name"]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on"]
    filter_horizontal = ["focus_sectors"]


def _portal_login(request, extra_context=None):
    """The admin has no login of its own: everyone comes in through the staff login with its second factor."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("login"))


admin.site.login = _portal_login

AUDITED_USER_FIELDS = ["role", "unit", "is_superuser", "is_staff", "is_active", "is_office_leader"]


def _user_access_snapshot(user: User) -> dict:
    """What decides what a user may do: role, unit, flags, groups and direct permissions."""
    snap = {name: getattr(user, name) for name in AUDITED_USER_FIELDS if name != "unit"}
    snap["unit"] = user.unit.code if user.unit_id else None
    snap["groups"] = sorted(user.groups.values_list("name", flat=True))
    snap["user_permissions"] = sorted(
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
    )
    return snap


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Every change of role, unit, superuser/staff flags, groups or permissions is audited."""

    list_display = [
        "username",
        "display_name",
        "role",
        "unit",
        "is_office_leader",
        "is_active",
        "two_factor",
        "last_login",
    ]
    list_filter = ["role", "unit", "is_active", "is_office_leader"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("角色与单位"), {"fields": ("role", "unit", "display_name", "title", "phone", "is_office_leader")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("角色与单位"), {"fields": ("role", "unit", "display_name")}),
    )
    actions = ["unlock_login", "reset_two_factor"]

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_totp=Exists(confirmed))

    @admin.display(description=_("双因素认证"), boolean=True, ordering="has_totp")
    def two_factor(self, obj) -> bool:
        return obj.has_totp

    def save_model(self, request, obj, form, change):
        # Taken before saving: the m2m fields are still the old ones until save_related.
        before = _user_access_snapshot(User.objects.get(pk=obj.pk)) if change and obj.pk else None
        request._user_access_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(request, "_user_access_before", None)
        after = _user_access_snapshot(user)
        ip = security.client_ip(request)
        if before is None:
            audit_record(
                actor=request.user, action="user.created", target=user, data={"access": after}, ip=ip
            )
            return
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if not changes:
            return
        role_fields = {"role", "unit", "is_superuser", "is_staff", "is_active"}
        action = "user.role_changed" if role_fields & set(changes) else "user.permissions_changed"
        data = {"changes": changes}
        if "role" in changes and security.otp_required(user):
            # A token issued without a code must not outlive a move into a role that requires one.
            from rest_framework.authtoken.models import Token

            data["tokens_revoked"] = Token.objects.filter(user=user).delete()[0]
        audit_record(actor=request.user, action=action, target=user, data=data, ip=ip)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            target = User.objects.filter(pk=id).first()
            audit_record(
                actor=request.user,
                action="auth.password_set_by_admin",
                target=target,
                ip=security.client_ip(request),
            )
        return response

    @admin.action(description=_("解除登录锁定"), permissions=["change"])
    def unlock_login(self, request, queryset):
        for user in queryset:
            security.lockout_clear(username=user.username)
            audit_record(
                actor=request.user, action="auth.unlocked", target=user, ip=security.client_ip(request)
            )
        self.message_user(request, _("已解除所选账号的登录锁定。"), messages.SUCCESS)

    @admin.action(description=_("重置双因素认证（用户下次登录时重新绑定）"), permissions=["change"])
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            security.otp_remove(user=user, actor=request.user, request=request, reason="admin reset")
        self.message_user(request, _("已重置所选账号的双因素认证。"), messages.SUCCESS)


admin.site.unregister(Group)
# Devices are bound by their owners (enrolment) and removed with the "reset two-factor" action above;
# editing keys by hand in the admin would bypass both the owner and the audit trail.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """Changing a group's permissions changes what its members may do: audited."""

    def save_related(self, request, form, formsets, change):
        before = (
            sorted(
                f"{a}.{c}"
                for a, c in Group.objects.get(pk=form.instance.pk).permissions.values_list(
                    "content_type__app_label", "codename"
                )
            )
            if change
            else []
        )
        super().save_related(request, form, formsets, change)
        after = sorted(
            f"{a}.{c}"
            for a, c in form.instance.permissions.values_list("content_type__app_label", "codename")
        )
        if before != after or not change:
            audit_record(
                actor=request.user,
                action="group.permissions_changed",
                target=form.instance,
                data={"group": form.instance.name, "before": before, "after": after},
                ip=security.client_ip(request),
            )


class CalendarAdminMixin:
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        workdays.clear_cache()


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = ["year", "source"]


@admin.register(PublicityActivity)
class PublicityActivityAdmin(admin.ModelAdmin):
    list_display = ["unit", "held_on", "kind", "place", "reach"]
    list_filter = ["kind", "unit"]
    date_hierarchy = "held_on"


class AuditActorFilter(admin.SimpleListFilter):
    """By account (the user table is small; a DISTINCT over the audit table would not be)."""

    title = _("操作人")
    parameter_name = "actor_name"

    def lookups(self, request, model_admin):
        return [(u, u) for u in User.objects.order_by("username").values_list("username", flat=True)]

    def queryset(self, request, queryset):
        return queryset.filter(actor_name=self.value()) if self.value() else queryset


class AuditActionFilter(admin.SimpleListFilter):
    """By action, offering the actions seen among the latest rows (a full DISTINCT would scan the table)."""

    title = _("操作")
    parameter_name = "action"
    SAMPLE = 5000

    def lookups(self, request, model_admin):
        recent = AuditEntry.objects.order_by("-at").values_list("action", flat=True)[: self.SAMPLE]
        actions = sorted(set(recent))
        prefixes = sorted({a.split(".")[0] + ".*" for a in actions if "." in a})
        return [(p, p) for p in prefixes] + [(a, a) for a in actions]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value.endswith(".*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)


def _csv_cell(value) -> str:
    """Text for a spreadsheet: a leading = + - @ would be read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _day_start(day: dt.date) -> str:
    return str(timezone.make_aware(dt.datetime.combine(day, dt.time.min)))


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: audit rows are searched and exported, never changed. Exports are audited themselves."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "ip", "reason"]
    # No plain field filters: each would run a DISTINCT over the whole (large, append-only) table.
    list_filter = [AuditActionFilter, AuditActorFilter, ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "action", "target_id", "reason"]
    show_full_result_count = False
    actions = ["export_selected"]
    change_list_template = "admin/campaign/auditentry/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        user = request.user
        return bool(user.is_active and (user.is_superuser or user.role == Role.ADMIN)) and (
            user.is_superuser or super().has_view_permission(request, obj)
        )

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [path("export/", export, name="campaign_auditentry_export"), *super().get_urls()]

    # A date range from two date inputs (`date_from`, `date_to` inclusive) as index-friendly bounds on `at`.
    def get_changelist_instance(self, request):
        params = request.GET.copy()
        date_from, date_to = params.pop("date_from", [""])[-1], params.pop("date_to", [""])[-1]
        try:
            if date_from:
                params["at__gte"] = _day_start(dt.date.fromisoformat(date_from))
            if date_to:
                params["at__lt"] = _day_start(dt.date.fromisoformat(date_to) + dt.timedelta(days=1))
        except ValueError:
            raise IncorrectLookupParameters
        request.GET = params
        return super().get_changelist_instance(request)

    def changelist_view(self, request, extra_context=None):
        at_lt = request.GET.get("at__lt", "")
        try:
            shown_to = (dt.date.fromisoformat(at_lt[:10]) - dt.timedelta(days=1)).isoformat() if at_lt else ""
        except ValueError:
            shown_to = ""
        keep = [
            (key, value)
            for key, values in request.GET.lists()
            for value in values
            if key not in ("date_from", "date_to", "at__gte", "at__lt", "p", "e")
        ]
        context = {
            "date_from": request.GET.get("date_from") or request.GET.get("at__gte", "")[:10],
            "date_to": request.GET.get("date_to") or shown_to,
            "range_keep": keep,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:campaign_auditentry_changelist") + "?e=1")
        queryset = changelist.get_queryset(request)
        filters = dict(request.GET.items())
        return self._csv_response(request, queryset, filters=filters)

    @admin.action(description=_("导出所选审计记录（CSV）"), permissions=["view"])
    def export_selected(self, request, queryset):
        return self._csv_response(request, queryset, filters={"selected": True})

    def _csv_response(self, request, queryset, *, filters: dict):
        count = queryset.count()
        audit_record(
            actor=request.user,
            action="audit.export",
            data={"rows": count, "filters": filters},
            ip=security.client_ip(request),
        )
        writer = csv.writer(_Echo())
        header = ["时间", "操作人", "操作", "对象类型", "对象", "事由", "IP", "详情"]

        def rows():
            yield "\ufeff" + writer.writerow(header)  # BOM: Excel opens UTF-8 Chinese correctly
            for entry in queryset.order_by("-at", "-id").iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        _csv_cell(timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S")),
                        _csv_cell(entry.actor_name),
                        _csv_cell(entry.action),
                        _csv_cell(entry.target_type),
                        _csv_cell(entry.target_id),
                        _csv_cell(entry.reason),
                        _csv_cell(entry.ip),
                        _csv_cell(json.dumps(entry.data, ensure_ascii=False, sort_keys=True)),
                    ]
                )

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
