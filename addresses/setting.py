"""CONNECT_GEOCODER: `local` (connect's imported address points), or the URL of a Nominatim-compatible or an
ArcGIS-compatible geocoder. An ArcGIS geocoder's URL ends in /GeocodeServer (as every ArcGIS one does); any other
http(s) URL is taken for Nominatim. Imported by the settings: no Django models here."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

GEOCODER_LOCAL, GEOCODER_NOMINATIM, GEOCODER_ARCGIS = "local", "nominatim", "arcgis"


def parse_geocoder(name: str, value: str) -> tuple[str, str]:
    value = (value or "").strip()
    if not value or value.lower() == GEOCODER_LOCAL:
        return GEOCODER_LOCAL, ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be 'local', a Nominatim URL (https://nominatim.example.org) or an ArcGIS GeocodeServer "
            f"URL (https://gis.example.org/arcgis/rest/services/Locator/GeocodeServer), without a query; got "
            f"{value!r}.")
    if parts.path.rstrip("/").lower().endswith("/geocodeserver"):
        return GEOCODER_ARCGIS, value.rstrip("/")
    return GEOCODER_NOMINATIM, value.rstrip("/")
