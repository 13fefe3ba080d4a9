"""A city's open address points: what type-ahead search and reverse lookup read. Public data, no owner's."""

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex


class AddressPoint(models.Model):
    # Which imported set the point belongs to ("raleigh", "wake-county"): a re-import replaces one set whole.
    city = models.CharField(max_length=64)
    address = models.CharField(max_length=300)  # as shown: "1200 Fayetteville St, Raleigh 27601"
    # The street part of the address (no city or ZIP code: "raleigh" would match every point) folded for search
    # (addresses.text.search_text): lower case, no punctuation, street types abbreviated the way the data spells
    # them, so "Fayetteville Street" finds "FAYETTEVILLE ST".
    search_text = models.CharField(max_length=300)
    location = models.PointField(geography=True, srid=4326, spatial_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["city"], name="address_point_city"),
            # B-tree with pattern ops: LIKE 'text%' whatever the database's collation.
            models.Index(fields=["search_text"], opclasses=["varchar_pattern_ops"], name="address_point_prefix"),
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="address_point_search_trgm"),
        ]

    def __str__(self):
        return self.address
