"""An index behind each default ordering of a table that grows (issue 13), built without locking out writes."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('registry', '0006_ordering_indexes'),
        ('requests_app', '0006_footagerequest_final_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='clip',
            index=models.Index(fields=['uploaded_at'], name='clip_uploaded_at'),
        ),
        AddIndexConcurrently(
            model_name='footagerequest',
            index=models.Index(fields=['created_at'], name='footage_request_created_at'),
        ),
        AddIndexConcurrently(
            model_name='incident',
            index=models.Index(fields=['created_at'], name='incident_created_at'),
        ),
    ]
