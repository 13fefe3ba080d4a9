from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Camera registry"

    def ready(self):
        from auditlog.registry import auditlog

        from registry.models import Camera, Owner

        # Change history with personal fields masked; an owner's deletion removes these entries too.
        auditlog.register(Owner, mask_fields=["name", "email", "phone", "address"])
        auditlog.register(Camera, mask_fields=["address"], exclude_fields=["updated_at"])
