from django.apps import AppConfig


class PublicRequestsConfig(AppConfig):
    name = "public_requests"
    verbose_name = "Public area requests"

    def ready(self):
        from auditlog.registry import auditlog

        from public_requests.models import PublicRequest

        auditlog.register(PublicRequest)
