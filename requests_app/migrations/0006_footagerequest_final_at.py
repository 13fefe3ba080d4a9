"""final_at: when the lapse sweep closed a request for answers. Requests answered or lapsed before it keep their
history as it was, except what told police who declined (the change-history entries of declines)."""

from django.db import migrations, models
from django.db.models import F


def legacy_final(apps, schema_editor):
    FootageRequest = apps.get_model("requests_app", "FootageRequest")
    # Declines of before are final at their answer (final_at == answered_at marks them: the transparency
    # report counted them from the ledger, and no lapse entry was written for them).
    FootageRequest.objects.filter(state="declined").update(final_at=F("answered_at"))
    FootageRequest.objects.filter(state="lapsed").update(final_at=F("expires_at"))
    try:
        LogEntry = apps.get_model("auditlog", "LogEntry")
        ContentType = apps.get_model("contenttypes", "ContentType")
    except LookupError:
        return
    content_type = ContentType.objects.filter(app_label="requests_app", model="footagerequest").first()
    if content_type is not None:
        # The change history (/admin/auditlog/logentry/) showed "state: opened → declined" to police.
        LogEntry.objects.filter(content_type=content_type, changes__state__1="declined").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("requests_app", "0005_clip_receipt_sent"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="footagerequest",
            name="final_at",
            field=models.DateTimeField(blank=True, null=True,
                                       help_text="When the lapse sweep closed it for answers (unanswered or "
                                                 "declined alike)"),
        ),
        migrations.RunPython(legacy_final, migrations.RunPython.noop),
    ]
