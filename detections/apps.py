from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    name = "detections"
    verbose_name = "Detections (people and vehicles, never faces)"

    def ready(self):
        from detections import receivers
        from requests_app import signals as requests_signals

        # requests_app is below us: it announces clips stored and purged, we index and purge their detections.
        requests_signals.clip_stored.connect(receivers.clip_stored, dispatch_uid="detections.clip_stored")
        requests_signals.clips_purged.connect(receivers.clips_purged, dispatch_uid="detections.clips_purged")
        requests_signals.incident_closed.connect(receivers.incident_closed, dispatch_uid="detections.incident_closed")
