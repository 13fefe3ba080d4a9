"""An index behind each default ordering of a table that grows (issue 13), built without locking out writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('dispatch', '0002_roles'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='officerposition',
            index=models.Index(fields=['recorded_at'], name='position_recorded_at'),
        ),
    ]
