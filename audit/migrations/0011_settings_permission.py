from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """Administrators and auditors read the staff settings page (every setting, its value and its source)."""

    dependencies = [
        ("audit", "0010_public_checkpoints"),
        ("integration", "0006_live_share_waiting"),
        ("requests_app", "0009_footage_request_claim"),
        ("registry", "0010_reconfirmation"),
        ("dispatch", "0003_ordering_indexes"),
        ("accounts", "0005_ordering_indexes"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="accessentry",
            options={"ordering": ["-seq"], "verbose_name_plural": "access entries",
                     "permissions": [("view_settings", "Can view the settings in force and their sources")]},
        ),
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
