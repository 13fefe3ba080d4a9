"""Admin for live integration: training records are entered here; shares, tokens and sessions are read,
and an administrator may stop a share or revoke/reissue a connector token (each recorded in the ledger)."""

from django.conf import settings
from django.contrib import admin, messages

from common.admin_base import NulSafeChangelistMixin, RecordAdmin
from integration import pilot, queue, selectors, services
from integration.models import ConnectorToken, LiveSession, LiveShare, LiveShareWaiting, TrainingRecord


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "completed_on", "hours", "recorded_by"]
    list_filter = ["completed_on", "course"]
    search_fields = ["user__username", "course"]
    fields = ["user", "course", "completed_on", "hours"]

    def has_change_permission(self, request, obj=None):
        return False  # a record of what happened: correct it by adding a new one

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.training_record_add(user=obj.user, course=obj.course, completed_on=obj.completed_on,
                                               hours=obj.hours, by=request.user)
        obj.pk = created.pk


@admin.register(LiveShare)
class LiveShareAdmin(RecordAdmin):
    list_display = ["camera", "terms_version", "signed_at", "incident_required", "incident_radius_m",
                    "max_session_minutes", "paused_until", "revoked_at"]
    list_filter = ["revoked_at", "incident_required", "terms_version"]
    search_fields = ["camera__label", "camera__code"]
    exclude = ["signed_ip"]  # the owner's address stays out of routine screens
    actions = ["stop_sharing"]

    @admin.action(description="Stop live sharing now (views close at once)", permissions=["stop"])
    def stop_sharing(self, request, queryset):
        stopped = sum(services.live_share_stop(camera=share.camera, by=request.user) for share in queryset)
        queue.queue_admit()  # freed places go to the queue at once
        self.message_user(request, f"Stopped {stopped} share(s).", messages.SUCCESS)

    def has_stop_permission(self, request):
        return request.user.has_perm("integration.change_liveshare")

    def changelist_view(self, request, extra_context=None):
        _pilot_limits_message(self, request)
        return super().changelist_view(request, extra_context)


def _pilot_limits_message(model_admin, request) -> None:
    """Staff see at the top of the shares and the queue where each pilot limit stands."""
    for row in pilot.limits_summary():
        level = messages.WARNING if row["reached"] else messages.INFO
        state = "limit reached" if row["reached"] else "below the limit"
        model_admin.message_user(request, f"{row['label']}: {row['integrated']} of {row['limit']} cameras shared "
                                          f"live ({state}); {row['waiting']} waiting in the queue.", level)
    if settings.PILOT_ENDS:
        model_admin.message_user(request, f"The pilot program ends after {settings.PILOT_ENDS:%Y-%m-%d}; then live "
                                          f"shares stop and registrations are {settings.PILOT_END_REGISTRATIONS}ed "
                                          "(CONNECT_PILOT_END_REGISTRATIONS).", messages.INFO)


@admin.register(LiveShareWaiting)
class LiveShareWaitingAdmin(RecordAdmin):
    """The queue of signatures waiting for a place (read-only: owners leave it themselves; admission is automatic)."""

    list_display = ["camera", "kind", "signed_at"]
    list_filter = ["kind"]
    exclude = ["signed_ip", "signed_name", "limits"]

    def changelist_view(self, request, extra_context=None):
        _pilot_limits_message(self, request)
        return super().changelist_view(request, extra_context)


@admin.register(ConnectorToken)
class ConnectorTokenAdmin(RecordAdmin):
    list_display = ["camera", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["camera__label", "camera__code", "prefix"]
    exclude = ["token_hash"]
    actions = ["revoke", "reissue"]

    @admin.action(description="Revoke (the connector is cut off at once)", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = sum(services.connector_token_revoke(camera=token.camera, by=request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)

    @admin.action(description="Issue a new token (shown once)", permissions=["revoke"])
    def reissue(self, request, queryset):
        for camera in {token.camera for token in queryset}:
            token = services.connector_token_issue(camera=camera, by=request.user)
            self.message_user(request, f"New token for {camera}: {token} (copy it now; it is not shown again).",
                              messages.WARNING)

    def has_revoke_permission(self, request):
        return request.user.has_perm("integration.change_connectortoken")


@admin.register(LiveSession)
class LiveSessionAdmin(NulSafeChangelistMixin, RecordAdmin):
    list_display = ["started_at", "analyst", "camera", "incident", "reason", "override_reason", "ended_at",
                    "end_reason"]
    list_filter = ["end_reason", "started_at"]
    search_fields = ["analyst__username", "camera__label", "incident__case_number", "reason"]
    date_hierarchy = "started_at"

    def get_queryset(self, request):
        # The API's rule: analysts see their own sessions, those who oversee the program see every one.
        return selectors.sessions_visible_to(user=request.user)
