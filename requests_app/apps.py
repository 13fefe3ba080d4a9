from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Footage requests"

    def ready(self):
        from auditlog.registry import auditlog

        from audit import transparency
        from registry import signals as registry_signals
        from registry.selectors import owner_access_rule_add
        from requests_app import receivers
        from requests_app.models import Clip, FootageRequest, Incident, RequestBatch
        from requests_app.selectors import owners_in_cases_of
        from requests_app.services import footage_declines_by_month

        auditlog.register(Incident)
        # Camera labels often carry an owner's name: they are not copied into the history.
        auditlog.register(FootageRequest, exclude_fields=["camera_label", "nonce", "decline_reason"])
        auditlog.register(Clip, exclude_fields=["wrapped_key"])
        auditlog.register(RequestBatch)
        # Declines reach the public report as counts only (audit imports no app: we hand it the counter).
        if footage_declines_by_month not in transparency.decline_counters:
            transparency.decline_counters.append(footage_declines_by_month)
        # Staff open an owner's contact details only from a case they may view (registry is below us and may not ask).
        owner_access_rule_add(owners_in_cases_of)
        # Deleted cameras' requests lose the label and the owner's words (registry may not import us).
        registry_signals.cameras_deleted.connect(receivers.cameras_deleted,
                                                 dispatch_uid="requests_app.cameras_deleted")
