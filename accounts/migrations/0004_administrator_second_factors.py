from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """The Administrator role may list and remove staff members' second-factor devices."""

    dependencies = [
        ("accounts", "0003_lock_scope_and_sessions"),
        ("otp_totp", "__latest__"),
        ("otp_static", "__latest__"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
