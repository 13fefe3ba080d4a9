from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Footage requests"

    def ready(self):
        from auditlog.registry import auditlog

        from requests_app.models import Clip, FootageRequest, Incident, RequestBatch

        auditlog.register(Incident)
        # Camera labels often carry an owner's name: they are not copied into the history.
        auditlog.register(FootageRequest, exclude_fields=["camera_label", "nonce"])
        auditlog.register(Clip, exclude_fields=["wrapped_key"])
        auditlog.register(RequestBatch)
