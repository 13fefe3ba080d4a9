from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """The Patrol officer role and the bulletin permissions of the other roles (common/roles.py)."""

    dependencies = [
        ("bulletins", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
