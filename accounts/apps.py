from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from auditlog.registry import auditlog
        from django.contrib.auth import get_user_model

        from accounts import signals  # noqa: F401  (closes a user's websockets when access ends)

        # Staff accounts: who changed a name, an address, a role or a permission. Never the password hash.
        auditlog.register(get_user_model(), exclude_fields=["password", "last_login"],
                          m2m_fields={"groups", "user_permissions"})
