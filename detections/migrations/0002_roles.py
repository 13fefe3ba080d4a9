from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    # Investigators, analysts and supervisors search their cases' clips (common/roles.py).
    dependencies = [("detections", "0001_initial")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
