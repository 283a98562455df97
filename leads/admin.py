"""Admin: the office configures routing rules, deadlines and lead sources here. Leads themselves change only
through the workflow (pages and API), so they are read-only in the admin."""

from django.contrib import admin

from .models import (
    Assignment,
    Bulletin,
    CallBack,
    DeadlinePolicy,
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadReview,
    LeadSource,
    ReportBack,
    RoutingRule,
    SendBack,
    SignOff,
)


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sector", "priority", "days", "accept_days", "note"]
    list_filter = ["priority", "sector"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "priority",
        "sector",
        "region",
        "keywords",
        "unit_names",
        "deadline_days",
        "is_active",
    ]
    list_display_links = ["id", "name"]
    list_editable = ["priority", "is_active"]
    list_filter = ["is_active", "sector", "region"]
    search_fields = ["name", "keywords", "note"]
    filter_horizontal = ["units"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sector", "region").prefetch_related("units")

    @admin.display(description="承办单位")
    def unit_names(self, obj):
        return "、".join(u.short_name or u.name for u in obj.units.all())


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    fields = ["unit", "status", "deadline", "accepted_at", "result", "submitted_at", "escalation_level"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "sector", "region", "priority", "deadline", "created_at"]
    list_filter = ["status", "priority", "sector", "source", "restricted"]
    search_fields = ["number", "summary"]
    inlines = [AssignmentInline]
    list_select_related = ["sector", "region"]


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = ["lead", "at", "actor", "action", "from_status", "to_status"]
    list_filter = ["action"]
    search_fields = ["lead__number"]
    list_select_related = ["lead", "actor"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "days", "status", "requested_at", "decided_at"]
    list_filter = ["status"]


# --- case-handling practice (issue 11): records of the workflow, read-only like the leads themselves ---
@admin.register(SendBack)
class SendBackAdmin(ReadOnlyAdmin):
    list_display = ["lead", "unit", "sent_back_at", "decision", "decided_at"]
    list_filter = ["decision", "unit"]
    search_fields = ["lead__number"]
    list_select_related = ["lead", "unit"]


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ["lead", "kind", "signer_name", "result", "signed_at"]
    list_filter = ["kind"]
    search_fields = ["lead__number", "signer_name"]
    list_select_related = ["lead"]


@admin.register(ReportBack)
class ReportBackAdmin(ReadOnlyAdmin):
    list_display = ["lead", "assignment", "kind", "created_at", "due_at"]
    list_filter = ["kind"]
    search_fields = ["lead__number"]
    list_select_related = ["lead", "assignment__unit"]


@admin.register(LeadReview)
class LeadReviewAdmin(ReadOnlyAdmin):
    list_display = ["lead", "source", "status", "opened_at", "decided_at"]
    list_filter = ["source", "status"]
    search_fields = ["lead__number"]
    list_select_related = ["lead"]


@admin.register(CallBack)
class CallBackAdmin(ReadOnlyAdmin):
    list_display = ["lead", "month", "status", "outcome", "recorded_at"]
    list_filter = ["month", "status", "outcome"]
    search_fields = ["lead__number"]
    list_select_related = ["lead"]


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["title", "period_start", "status", "doc_number", "issued_at"]
    list_filter = ["status"]
