from django.db import migrations

from common.roles import roles_sync


class Migration(migrations.Migration):
    """The Legal reviewer role; administrators keep outside agencies and their accounts; auditors read requests."""

    dependencies = [
        ("agencies", "0001_initial"), ("registry", "0010_reconfirmation"), ("requests_app", "0009_footage_request_claim"),
        ("integration", "0006_live_share_waiting"), ("dispatch", "0003_ordering_indexes"),
        ("audit", "0010_public_checkpoints"), ("accounts", "0005_ordering_indexes"), ("api", "0002_apitoken_agency"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
