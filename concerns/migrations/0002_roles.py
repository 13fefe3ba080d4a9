from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    # Supervisors handle neighbours' concerns (common/roles.py).
    dependencies = [("concerns", "0001_initial"), ("integration", "0007_privacy_mask_held_for")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
