"""Trigram indexes behind the admin's camera and owner searches (issue 16), built without locking out writes.

Django's icontains is UPPER(field::text) LIKE UPPER('%term%'): each index is on that expression, so PostgreSQL
answers a search from the index instead of reading a million rows. (In SQL: Django 5.2 writes an OpClass over an
expression inside parentheses PostgreSQL refuses.) pg_trgm is a trusted extension: the database's owner may create
it, and IF NOT EXISTS leaves it alone where another migration already did.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

SEARCHED = {"registry_camera": ("label", "address", "code"),
            "registry_owner": ("name", "email", "phone", "address", "code")}


def trigram(table: str, field: str) -> migrations.RunSQL:
    name = f"{table.removeprefix('registry_')}_{field}_trgm"
    return migrations.RunSQL(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin (UPPER({field}::text) gin_trgm_ops)",
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('registry', '0007_camera_cells'),
    ]

    operations = [
        TrigramExtension(),
        *(trigram(table, field) for table, fields in SEARCHED.items() for field in fields),
        # Statistics of the indexed expressions: without them PostgreSQL guessed that a word in every address
        # ("St") was rare, and read a million index entries for it (0.5 s a search at a million cameras).
        migrations.RunSQL("ANALYZE registry_camera; ANALYZE registry_owner", migrations.RunSQL.noop),
    ]
