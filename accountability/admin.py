from django.contrib import admin

from .models import (
    Action,
    ActionEvent,
    Assessment,
    AssessmentAdjustment,
    DocumentNumberCounter,
    RectificationItem,
    UnitTask,
)


class ItemInline(admin.TabularInline):
    model = RectificationItem
    extra = 0
    fields = ["seq", "description", "deadline_days", "deadline", "status", "overdue_at", "accepted_at"]
    readonly_fields = ["status", "overdue_at", "accepted_at"]


class EventInline(admin.TabularInline):
    model = ActionEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "name", "from_status", "to_status", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    """Read mostly: state changes go through the portal's workflow, not the admin."""

    list_display = ["id", "doc_number", "kind", "status", "source", "title", "created_at"]
    list_filter = ["kind", "status", "source"]
    search_fields = ["doc_number", "title", "reasons"]
    readonly_fields = [
        "status",
        "doc_series",
        "doc_year",
        "doc_seq",
        "doc_number",
        "doc_date",
        "issued_at",
        "issued_by",
        "overdue_at",
        "closed_at",
        "dismissed_reason",
        "version",
        "dedupe_key",
        "created_by",
        "created_at",
    ]
    filter_horizontal = ["units"]
    raw_id_fields = ["leads", "assignments", "parent"]
    inlines = [ItemInline, EventInline]


@admin.register(DocumentNumberCounter)
class DocumentNumberCounterAdmin(admin.ModelAdmin):
    list_display = ["series", "year", "last"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # written by the portal's services, never by hand

    list_display = [
        "unit",
        "period_kind",
        "period_start",
        "computed_score",
        "adjustment",
        "score",
        "grade",
        "rank",
    ]
    list_filter = ["period_kind", "period_start", "grade"]
    readonly_fields = [f.name for f in Assessment._meta.fields]


@admin.register(AssessmentAdjustment)
class AssessmentAdjustmentAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # written by the portal's services, never by hand

    list_display = ["assessment", "old_adjustment", "new_adjustment", "actor", "at"]
    readonly_fields = ["assessment", "old_adjustment", "new_adjustment", "reason", "actor", "at"]


@admin.register(UnitTask)
class UnitTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "unit", "phase", "status", "deadline", "progress", "escalation_level"]
    list_filter = ["status", "phase", "unit"]
    search_fields = ["title"]
