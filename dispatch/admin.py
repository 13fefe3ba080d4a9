from django.contrib import admin

from dispatch.models import CallForService


@admin.register(CallForService)
class CallForServiceAdmin(admin.ModelAdmin):
    """Read-only: calls come from dispatch; staff promote them to incidents from the map or the API."""

    list_display = ("dispatch_id", "call_type", "priority", "status", "received_at", "incident")
    list_filter = ("status", "priority", "call_type")
    search_fields = ("dispatch_id",)
    readonly_fields = [f.name for f in CallForService._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
