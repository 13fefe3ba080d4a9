from django.apps import AppConfig


class ConnectConfig(AppConfig):
    name = "connect"

    def ready(self):
        from django.db.backends.signals import connection_created

        from connect.db_pool import use_restart_aware_check

        connection_created.connect(use_restart_aware_check, dispatch_uid="connect.db_pool")
