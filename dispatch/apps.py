from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = "Dispatch (calls for service, officer positions)"

    def ready(self):
        from auditlog.registry import auditlog

        from dispatch.models import CallForService

        # Officer positions are telemetry (several a second, purged after hours), not records anyone edits:
        # no change history for them.
        auditlog.register(CallForService, mask_fields=["address"], exclude_fields=["updated_at"])
