"""Owners see how often the staff map showed their cameras (issue 12). A viewport load is one ledger entry with
its box (west, south, east, north in the detail); this index finds the loads whose box holds a camera's point
without reading the others, so a write stays one small INSERT whatever the number of cameras in view."""

from django.db import migrations

BOX = ("box(point((detail ->> 'west')::float8, (detail ->> 'south')::float8), "
       "point((detail ->> 'east')::float8, (detail ->> 'north')::float8))")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_map_search_owners")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX audit_map_viewport_box ON audit_accessentry USING gist (({BOX})) "
            "WHERE action = 'map.viewed'",
            "DROP INDEX audit_map_viewport_box",
        ),
    ]
