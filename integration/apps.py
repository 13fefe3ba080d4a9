from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Live integration"

    def ready(self):
        from auditlog.registry import auditlog

        from integration import receivers
        from integration.models import ConnectorToken, LiveSession, LiveShare, TrainingRecord
        from integration.services import live_sessions_end_for_case
        from registry import signals as registry_signals
        from requests_app.signals import incident_closed

        incident_closed.connect(live_sessions_end_for_case, dispatch_uid="integration.live_sessions_end_for_case")
        # What registry announces (it may not import us): live views and shares follow the camera and its owner.
        registry_signals.camera_changed.connect(receivers.camera_changed, dispatch_uid="integration.camera_changed")
        registry_signals.camera_withdrawn.connect(receivers.camera_withdrawn,
                                                  dispatch_uid="integration.camera_withdrawn")
        registry_signals.owner_deleted.connect(receivers.owner_deleted, dispatch_uid="integration.owner_deleted")
        registry_signals.cameras_deleted.connect(receivers.cameras_deleted,
                                                 dispatch_uid="integration.cameras_deleted")

        # Change history. The signer's name and address are masked; a token's hash and its last use are not
        # kept. Privacy masks are replaced as a set (bulk_create, which auditlog never sees): the ledger's
        # live.masks_changed records each change instead.
        auditlog.register(LiveShare, mask_fields=["signed_name", "signed_ip"])
        auditlog.register(ConnectorToken, exclude_fields=["token_hash", "last_used_at"])
        auditlog.register(LiveSession)
        auditlog.register(TrainingRecord)
