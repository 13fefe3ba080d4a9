from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "bulletins"
    verbose_name = "Bulletins to patrol units"

    def ready(self):
        from bulletins import compose_hook

        compose_hook.register()
