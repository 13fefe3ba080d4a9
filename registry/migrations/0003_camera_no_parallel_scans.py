from django.db import migrations


class Migration(migrations.Migration):
    """Radius searches return a few hundred rows from the GiST index; the planner underestimates them and
    sometimes starts a parallel worker, which took 10-22 ms instead of 3 ms at 1M cameras (bench/nearby.py)."""

    dependencies = [("registry", "0002_roles")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE registry_camera SET (parallel_workers = 0)",
            "ALTER TABLE registry_camera RESET (parallel_workers)",
        )
    ]
