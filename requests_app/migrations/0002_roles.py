from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0001_initial"),
        ("audit", "0001_initial"),
        ("registry", "0003_camera_no_parallel_scans"),
        ("guardian", "0002_generic_permissions_index"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
