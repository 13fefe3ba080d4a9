from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "invitations"
    verbose_name = "Invitations"

    def ready(self):
        from invitations import receivers
        from registry import signals as registry_signals

        registry_signals.owner_registered.connect(receivers.registration_count, dispatch_uid="invitations.registered")
