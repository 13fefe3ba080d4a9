"""An index behind each default ordering of a table that grows (issue 13), built without locking out writes."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('accounts', '0004_administrator_second_factors'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='accountlock',
            index=models.Index(fields=['locked_at'], name='account_lock_locked_at'),
        ),
    ]
