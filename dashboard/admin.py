from django.contrib import admin

from .models import ExportJob, RollupState


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: exports are made from the pages and recorded in the audit log."""

    list_display = ["created_at", "owner", "title", "fmt", "status", "rows", "expires_at"]
    list_filter = ["status", "fmt", "kind"]
    search_fields = ["title", "owner__username"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RollupState)
class RollupStateAdmin(admin.ModelAdmin):
    list_display = ["name", "refreshed_at", "full_refreshed_at", "last_duration_ms"]
    readonly_fields = [
        "name",
        "refreshed_at",
        "full_refreshed_at",
        "last_duration_ms",
        "last_counts",
        "checkpoints",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
