"""Owners see the map searches that returned their cameras (issue 12). A search is one ledger entry whose detail
names the owners it returned ("owners": [codes]) and their cameras ("cameras": {owner: [codes]}); this index
finds an owner's searches by containment without reading the others. One entry per search rather than one per
camera: at ~30 cameras a search, per-camera entries halved the nearby endpoint's throughput (bench/api_nearby.py)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_sealed_only_by_key")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX audit_map_search_owners ON audit_accessentry "
            "USING gin ((detail -> 'owners') jsonb_path_ops) WHERE action = 'map.search'",
            "DROP INDEX audit_map_search_owners",
        ),
    ]
