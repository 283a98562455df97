"""Read-only admin pages for the transfer between zones: what was exchanged, what was refused, which keys.

Nothing here can be changed by hand: keys go through `manage.py zone_keys`, everything else is a record.
"""

from django.contrib import admin

from .models import ImportedSubmission, SealingKey, TransferLog, ZoneKeyPair


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferLog)
class TransferLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "zone", "action", "ok", "detail"]
    list_filter = ["action", "ok", "zone"]
    date_hierarchy = "at"


@admin.register(ImportedSubmission)
class ImportedSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["submission_id", "kind", "tip", "imported_at"]
    list_filter = ["kind"]
    search_fields = ["submission_id", "tip__tracking_code"]
    list_select_related = ["tip"]


@admin.register(ZoneKeyPair)
class ZoneKeyPairAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "is_current", "created_at", "retired_at"]
    fields = ["key_id", "public_key", "is_current", "created_at", "retired_at"]  # never the private half


@admin.register(SealingKey)
class SealingKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "is_current", "received_at"]
