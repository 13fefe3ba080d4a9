"""An index behind each default ordering of a table that grows (issue 13), built without locking out writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('registry', '0005_owner_list_permission'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='camera',
            index=models.Index(fields=['label'], name='camera_label'),
        ),
        AddIndexConcurrently(
            model_name='deletionrecord',
            index=models.Index(fields=['deleted_at'], name='deletion_record_deleted_at'),
        ),
        AddIndexConcurrently(
            model_name='owner',
            index=models.Index(fields=['created_at'], name='owner_created_at'),
        ),
    ]
