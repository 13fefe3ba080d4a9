from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """Least privilege (issue 12): only administrators browse owners (registry.list_owners); auditors no longer
    read owners' contact details; investigators and supervisors open one owner at a time, with a reason."""

    dependencies = [
        ("registry", "0004_owner_daily_digest"),
        ("audit", "0005_roles"), ("requests_app", "0004_roles"), ("integration", "0002_roles"),
        ("dispatch", "0002_roles"), ("accounts", "0002_roles"), ("api", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="owner",
            options={"ordering": ["-created_at"], "permissions": [
                ("import_agency_cameras", "Can import agency cameras from CSV or GeoJSON"),
                ("list_owners", "Can list and search every owner's contact details")]},
        ),
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
