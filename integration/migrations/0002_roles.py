from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [("integration", "0001_initial"), ("requests_app", "0004_roles"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
