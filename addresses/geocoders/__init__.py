"""Where type-ahead search and reverse lookup get their answers: connect's own address points (`local`, the
default) or an external Nominatim- or ArcGIS-compatible geocoder, which connect's server asks on the browser's
behalf (so the page's CSP needs no other host and the geocoder never sees who searched).

Each adapter has `search(text, limit) -> list[Place]` and `reverse(lat, lng) -> Place | None`, and raises
GeocoderUnavailable with a sentence a person can act on."""

from django.conf import settings

from addresses.geocoders.base import GeocoderUnavailable
from addresses.setting import GEOCODER_ARCGIS, GEOCODER_NOMINATIM

__all__ = ["GeocoderUnavailable", "geocoder", "place_of_address"]


def geocoder():
    kind, url = settings.GEOCODER
    if kind == GEOCODER_NOMINATIM:
        from addresses.geocoders.nominatim import Nominatim  # noqa: PLC0415 -- only the configured one is loaded

        return Nominatim(url, timeout=settings.GEOCODER_TIMEOUT_S)
    if kind == GEOCODER_ARCGIS:
        from addresses.geocoders.arcgis import ArcGIS  # noqa: PLC0415

        return ArcGIS(url, timeout=settings.GEOCODER_TIMEOUT_S)
    from addresses.geocoders.local import Local  # noqa: PLC0415

    return Local()


def place_of_address(text: str):
    """The one place a typed address names, or None: an exact match among the local points (a near miss must not
    put a camera on another house), or an external geocoder's best answer. Raises GeocoderUnavailable."""
    if settings.GEOCODER[0] in (GEOCODER_NOMINATIM, GEOCODER_ARCGIS):
        found = geocoder().search(text, 1)
        return found[0] if found else None
    from addresses.selectors import address_exact  # noqa: PLC0415

    return address_exact(text=text)
