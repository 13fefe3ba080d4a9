"""Address points with a trigram index. pg_trgm may already be enabled (by a database administrator, or by
another app's migration): TrigramExtension checks pg_extension first and skips CREATE EXTENSION then, so this
migration also runs where the connect role may not create extensions but an administrator already did."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        TrigramExtension(),
        migrations.CreateModel(
            name="AddressPoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("city", models.CharField(max_length=64)),
                ("address", models.CharField(max_length=300)),
                ("search_text", models.CharField(max_length=300)),
                ("location", django.contrib.gis.db.models.fields.PointField(geography=True, srid=4326)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["city"], name="address_point_city"),
                    models.Index(fields=["search_text"], name="address_point_prefix",
                                 opclasses=["varchar_pattern_ops"]),
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["search_text"], name="address_point_search_trgm", opclasses=["gin_trgm_ops"]),
                ],
            },
        ),
    ]
