from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Footage requests"

    def ready(self):
        from auditlog.registry import auditlog

        from audit import transparency
        from requests_app.models import Clip, FootageRequest, Incident, RequestBatch
        from requests_app.services import footage_declines_by_month

        auditlog.register(Incident)
        # Camera labels often carry an owner's name: they are not copied into the history.
        auditlog.register(FootageRequest, exclude_fields=["camera_label", "nonce", "decline_reason"])
        auditlog.register(Clip, exclude_fields=["wrapped_key"])
        auditlog.register(RequestBatch)
        # Declines reach the public report as counts only (audit imports no app: we hand it the counter).
        if footage_declines_by_month not in transparency.decline_counters:
            transparency.decline_counters.append(footage_declines_by_month)
