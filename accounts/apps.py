from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from accounts import signals  # noqa: F401  (closes a user's websockets when access ends)
