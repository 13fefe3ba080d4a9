from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """Auditors and administrators read the change history (auditlog); auditors see API tokens (never keys)."""

    dependencies = [("audit", "0004_pending_entries"), ("auditlog", "0017_add_actor_email"), ("api", "0001_initial"),
                    ("integration", "0002_roles")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
