from django.contrib import admin

from .models import CaseImport, Dismissal, Entity, ImportedCase, Link, WatchFlag, WatchHit


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "mention_count", "first_seen_at")
    list_filter = ("kind",)
    search_fields = ("value",)
    readonly_fields = ("kind", "value", "key", "mention_count", "first_seen_at")
    show_full_result_count = False


@admin.register(ImportedCase)
class ImportedCaseAdmin(admin.ModelAdmin):
    list_display = ("case_number", "kind", "title", "region", "occurred_at", "source_file")
    list_filter = ("kind", "region")
    search_fields = ("case_number", "title", "accused")
    raw_id_fields = ("batch",)


@admin.register(CaseImport)
class CaseImportAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # written by the portal's services, never by hand

    list_display = ("original_name", "status", "total_rows", "created_count", "created_by", "created_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in CaseImport._meta.fields]


@admin.register(WatchFlag)
class WatchFlagAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "unit", "ends_on", "lifted_at")
    list_filter = ("kind", "unit")
    search_fields = ("label", "value")


@admin.register(WatchHit)
class WatchHitAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # written by the portal's services, never by hand

    list_display = ("flag", "item_kind", "item_label", "matched", "at")
    readonly_fields = ("flag", "item_kind", "item_id", "item_label", "matched", "at")


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False  # written by the portal's services, never by hand

    list_display = ("a_kind", "a_id", "b_kind", "b_id", "outcome", "created_by", "created_at")
    readonly_fields = (
        "a_kind",
        "a_id",
        "b_kind",
        "b_id",
        "outcome",
        "lead",
        "note",
        "created_by",
        "created_at",
    )


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    list_display = ("a_kind", "a_id", "b_kind", "b_id", "reason", "dismissed_by", "dismissed_at")
