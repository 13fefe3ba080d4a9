"""Camera counts per map square and zoom (registry.models.CameraCell), kept by PostgreSQL itself (issue 16).

Statement triggers with transition tables: a bulk INSERT of a million cameras updates the squares once, not a
million times, and every path that writes cameras or owners (the ORM, imports, raw SQL, the benchmarks' generator)
keeps the counts true. The upsert takes its rows in key order, coarsest zoom first, so two writers queue on the
same first row instead of deadlocking.
"""

from django.db import migrations, models

MIN_ZOOM, MAX_ZOOM = 5, 18  # map zooms 3..16, two more for 64 px squares

# One camera position's square at MAX_ZOOM; coarser squares are the same numbers shifted right.
_X = f"floor((ST_X(d.location::geometry) + 180) / 360 * 2 ^ {MAX_ZOOM})::int"
_Y = (f"floor((1 - ln(tan(radians(ST_Y(d.location::geometry))) + 1 / cos(radians(ST_Y(d.location::geometry))))"
      f" / pi()) / 2 * 2 ^ {MAX_ZOOM})::int")


def _upsert(deltas: str) -> str:
    """Adds the deltas (rows of location, kind, level, sign) to every zoom's squares."""
    return f"""
    INSERT INTO registry_cameracell AS cell (zoom, x, y, kind, level, cameras, sum_lng, sum_lat)
    SELECT z, p.x >> ({MAX_ZOOM} - z), p.y >> ({MAX_ZOOM} - z), p.kind, p.level, sum(p.sign), sum(p.sign * p.lng),
           sum(p.sign * p.lat)
    FROM (SELECT {_X} AS x, {_Y} AS y, d.kind, d.level, d.sign, ST_X(d.location::geometry) AS lng,
                 ST_Y(d.location::geometry) AS lat
          FROM ({deltas}) AS d) AS p
    CROSS JOIN generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (zoom, x, y, kind, level) DO UPDATE SET cameras = cell.cameras + EXCLUDED.cameras,
        sum_lng = cell.sum_lng + EXCLUDED.sum_lng, sum_lat = cell.sum_lat + EXCLUDED.sum_lat;
    """


# selectors.STAFF_VISIBLE_CAMERA, in SQL
_VISIBLE = "c.status = 'active' AND (o.confirmed_at IS NOT NULL OR o.kind = 'agency')"


def _cameras(table: str, sign: int, where: str = "TRUE") -> str:
    return (f"SELECT c.location, o.kind, c.level, {sign} AS sign FROM {table} c "
            f"JOIN registry_owner o ON o.id = c.owner_id WHERE {_VISIBLE} AND {where}")


# An UPDATE moves a camera only when what the squares count changed (a new label changes nothing).
_CAMERA_MOVED = ("c.id IN (SELECT n.id FROM new_rows n JOIN old_rows o USING (id) WHERE n.status <> o.status OR "
                 "n.level <> o.level OR n.owner_id <> o.owner_id OR ST_AsBinary(n.location) <> ST_AsBinary(o.location))")

# An owner's confirmation or kind decides whether and how their active cameras count.
_OWNER_CHANGED = ("SELECT n.id FROM new_rows n JOIN old_rows o USING (id) WHERE n.kind <> o.kind OR "
                  "(n.confirmed_at IS NULL) <> (o.confirmed_at IS NULL)")


def _owner_cameras(table: str, sign: int) -> str:
    return (f"SELECT c.location, o.kind, c.level, {sign} AS sign FROM registry_camera c JOIN {table} o "
            f"ON o.id = c.owner_id WHERE {_VISIBLE} AND o.id IN ({_OWNER_CHANGED})")


FORWARD = f"""
CREATE FUNCTION registry_camera_cells_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_upsert(_cameras('new_rows', 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert(_cameras('old_rows', -1))}
    ELSIF TG_OP = 'UPDATE' THEN
        {_upsert(_cameras('old_rows', -1, _CAMERA_MOVED) + ' UNION ALL ' + _cameras('new_rows', 1, _CAMERA_MOVED))}
    ELSE  -- TRUNCATE (the benchmarks' generator, test flushes)
        DELETE FROM registry_cameracell;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION registry_owner_cells_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(_owner_cameras('old_rows', -1) + ' UNION ALL ' + _owner_cameras('new_rows', 1))}
    RETURN NULL;
END $$;

CREATE TRIGGER camera_cells_insert AFTER INSERT ON registry_camera REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_camera_cells_sync();
CREATE TRIGGER camera_cells_update AFTER UPDATE ON registry_camera REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_camera_cells_sync();
CREATE TRIGGER camera_cells_delete AFTER DELETE ON registry_camera REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_camera_cells_sync();
CREATE TRIGGER camera_cells_truncate AFTER TRUNCATE ON registry_camera
    FOR EACH STATEMENT EXECUTE FUNCTION registry_camera_cells_sync();
CREATE TRIGGER owner_cells_update AFTER UPDATE ON registry_owner REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_owner_cells_sync();

-- the cameras already there
{_upsert(_cameras('registry_camera', 1))}
"""

BACKWARD = """
DROP TRIGGER camera_cells_insert ON registry_camera;
DROP TRIGGER camera_cells_update ON registry_camera;
DROP TRIGGER camera_cells_delete ON registry_camera;
DROP TRIGGER camera_cells_truncate ON registry_camera;
DROP TRIGGER owner_cells_update ON registry_owner;
DROP FUNCTION registry_camera_cells_sync();
DROP FUNCTION registry_owner_cells_sync();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0006_ordering_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='CameraCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('zoom', models.PositiveSmallIntegerField()),
                ('x', models.IntegerField()),
                ('y', models.IntegerField()),
                ('kind', models.CharField(choices=[('resident', 'Resident'), ('business', 'Business'),
                                                   ('agency', 'Agency (police or city)')], max_length=16)),
                ('level', models.CharField(choices=[('registered', 'Registered'),
                                                    ('integrated', 'Integrated (live sharing)')], max_length=16)),
                ('cameras', models.IntegerField()),
                ('sum_lng', models.FloatField()),
                ('sum_lat', models.FloatField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('zoom', 'x', 'y', 'kind', 'level'),
                                                        name='camera_cell_key')],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
