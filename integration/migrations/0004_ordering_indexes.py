"""An index behind each default ordering of a table that grows (issue 13), built without locking out writes."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('integration', '0003_live_session_case_closed'),
        ('registry', '0006_ordering_indexes'),
        ('requests_app', '0007_ordering_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='connectortoken',
            index=models.Index(fields=['created_at'], name='connector_token_created_at'),
        ),
        AddIndexConcurrently(
            model_name='livesession',
            index=models.Index(fields=['started_at'], name='live_session_started_at'),
        ),
        AddIndexConcurrently(
            model_name='liveshare',
            index=models.Index(fields=['signed_at'], name='live_share_signed_at'),
        ),
    ]
