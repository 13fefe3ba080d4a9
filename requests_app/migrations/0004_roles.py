from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """Supervisors may place and release legal holds on clips."""

    dependencies = [("requests_app", "0003_clip_legal_hold_clip_legal_hold_reason_and_more"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
