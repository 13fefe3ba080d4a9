from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0001_initial"),
        ("api", "0001_initial"),
        ("requests_app", "0004_roles"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
