from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    # After every app whose permissions the roles hold: roles_sync sets each group to exactly ROLES.
    dependencies = [
        ("invitations", "0001_initial"),
        ("registry", "__latest__"), ("requests_app", "__latest__"), ("integration", "__latest__"),
        ("dispatch", "__latest__"), ("accounts", "__latest__"), ("audit", "__latest__"), ("api", "__latest__"),
        ("otp_totp", "__latest__"), ("otp_static", "__latest__"), ("auditlog", "__latest__"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
