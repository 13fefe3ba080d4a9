"""Address points with a trigram index. pg_trgm may already be enabled (by a database administrator, or by
another app's migration): TrigramExtension checks pg_extension first and skips CREATE EXTENSION then, so this
migration also runs where the connect role may not create extensions but an administrator already did. Unapplied,
it leaves the extension: other apps' trigram indexes may need it."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class TrigramExtensionKept(TrigramExtension):
    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        TrigramExtensionKept(),
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
