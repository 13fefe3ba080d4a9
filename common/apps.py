from django.apps import AppConfig


class CommonConfig(AppConfig):
    """common is helpers below every app; it is an app only for the transactional outbox's table."""

    name = "common"
    default_auto_field = "django.db.models.BigAutoField"
