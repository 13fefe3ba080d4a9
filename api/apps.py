from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self):
        from auditlog.registry import auditlog

        from api import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
        from api.models import ApiToken

        auditlog.register(ApiToken, exclude_fields=["key_hash", "last_used_at"])
