"""Admin: reference-style browsing only. Identities stay encrypted; reveals happen on the tip page, logged."""

from django.contrib import admin

from .models import IdentityReveal, Reward, Tip, TipEvent, TypicalCase


@admin.register(Tip)
class TipAdmin(admin.ModelAdmin):
    list_display = ["tracking_code", "channel", "status", "public_status", "sector", "region", "received_at"]
    list_filter = ["channel", "status", "public_status"]
    search_fields = ["tracking_code"]
    show_full_result_count = False
    exclude = ["identity_encrypted", "pin_hash"]
    readonly_fields = [f.name for f in Tip._meta.fields if f.name not in ("identity_encrypted", "pin_hash")]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TipEvent)
class TipEventAdmin(admin.ModelAdmin):
    list_display = ["tip", "at", "kind", "public"]
    raw_id_fields = ["tip"]
    show_full_result_count = False


@admin.register(IdentityReveal)
class IdentityRevealAdmin(admin.ModelAdmin):
    list_display = ["tip", "user", "at", "reason"]
    raw_id_fields = ["tip"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["tip", "amount", "status", "proposed_at"]
    list_filter = ["status"]
    raw_id_fields = ["tip", "first_tip"]


@admin.register(TypicalCase)
class TypicalCaseAdmin(admin.ModelAdmin):
    list_display = ["title", "is_published", "published_on"]
    list_filter = ["is_published"]
