import django.db.models.deletion
from django.db import migrations, models


def stills_cameras_from_ledger(apps, schema_editor):
    """Stills taken from a live view before this field: their camera as the ledger recorded it when each was taken
    (a still whose entry is gone, purged by the ledger's retention, stays unlinked)."""
    Clip = apps.get_model("requests_app", "Clip")
    Camera = apps.get_model("registry", "Camera")
    AccessEntry = apps.get_model("audit", "AccessEntry")
    taken = dict(AccessEntry.objects.filter(action="clip.still_taken", target_type="clip")
                 .exclude(camera_code="").values_list("target_code", "camera_code"))
    if not taken:
        return
    cameras = {str(code): pk for code, pk in Camera.objects.filter(code__in=set(taken.values()))
               .values_list("code", "pk")}
    for clip in Clip.objects.filter(request__isnull=True, camera__isnull=True).only("pk", "code"):
        camera_id = cameras.get(taken.get(str(clip.code), ""))
        if camera_id is not None:
            Clip.objects.filter(pk=clip.pk).update(camera_id=camera_id)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0011_settings_permission"),
        ("registry", "0010_reconfirmation"),
        ("requests_app", "0009_footage_request_claim"),
    ]

    operations = [
        migrations.AddField(
            model_name="clip",
            name="camera",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="registry.camera"),
        ),
        migrations.RunPython(stills_cameras_from_ledger, migrations.RunPython.noop),
    ]
