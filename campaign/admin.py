from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import workdays
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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "unit", "is_office_leader", "is_active", "last_login"]
    list_filter = ["role", "unit", "is_active", "is_office_leader"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("角色与单位"), {"fields": ("role", "unit", "display_name", "title", "phone", "is_office_leader")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("角色与单位"), {"fields": ("role", "unit", "display_name")}),
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


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: audit rows are searched and exported, never changed."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "reason"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "action", "target_id", "reason"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
