"""What every map draws under its own layers (static/connect/js/basemap.js): the configured street tiles, the
service area and the districts. Public pages, the staff map and the admin's maps all take it from here."""

from django.conf import settings
from django.utils.translation import gettext

from common.districts import districts_geojson


def map_config() -> dict:
    """Streets from the tile server (or none), and the service area and districts, drawn whether or not the tiles
    load; with the one line a map shows when they do not."""
    return {"tiles": settings.MAP_TILES, "tileOptions": settings.MAP_TILE_OPTIONS, "area": settings.SERVICE_AREA,
            "districts": districts_geojson(),
            "tilesFailed": gettext("Street map unavailable: its tiles could not be loaded. The service area and "
                                   "district lines are still shown.")}
