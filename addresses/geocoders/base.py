"""What every external geocoder adapter shares: one GET of JSON with a timeout, failures in plain words."""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from addresses.selectors import Place

MAX_BODY = 1_000_000  # a type-ahead answer is a few kilobytes; more is not a geocoder's answer


class GeocoderUnavailable(Exception):
    """The external geocoder failed; str() is the message shown to the person searching."""


def service_box() -> tuple[float, float, float, float]:
    """(west, south, east, north) of the service area: external geocoders are asked for places inside it."""
    ring = settings.SERVICE_AREA["coordinates"][0]
    if settings.SERVICE_AREA["type"] == "MultiPolygon":
        ring = [point for polygon in settings.SERVICE_AREA["coordinates"] for point in polygon[0]]
    xs, ys = [point[0] for point in ring], [point[1] for point in ring]
    return min(xs), min(ys), max(xs), max(ys)


class HttpGeocoder:
    name = "geocoder"

    def __init__(self, url: str, *, timeout: float):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.host = urllib.parse.urlsplit(url).netloc

    def get_json(self, path: str, params: dict):
        url = f"{self.url}/{path}?{urllib.parse.urlencode(params)}"
        # Nominatim's usage policy asks for an identifying User-Agent; the agency's name says who to contact.
        request = urllib.request.Request(url, headers={
            "User-Agent": f"connect (community camera program; {settings.AGENCY_NAME})",
            "Accept": "application/json"})
        unavailable = f"The address service ({self.host}) "
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 -- a configured URL
                body = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            raise GeocoderUnavailable(unavailable + f"answered HTTP {exc.code}. Try again later, or place the "
                                      "camera on the map.") from None
        except TimeoutError:
            raise GeocoderUnavailable(unavailable + f"did not answer within {self.timeout:g} s. Try again, or place "
                                      "the camera on the map.") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise GeocoderUnavailable(unavailable + f"did not answer within {self.timeout:g} s. Try again, or "
                                          "place the camera on the map.") from None
            raise GeocoderUnavailable(unavailable + "cannot be reached. Try again later, or place the camera on "
                                      "the map.") from None
        if len(body) > MAX_BODY:
            raise GeocoderUnavailable(unavailable + "sent an answer too large to be a search result.")
        try:
            return json.loads(body)
        except ValueError:
            raise GeocoderUnavailable(unavailable + "sent an answer that is not JSON: is CONNECT_GEOCODER the "
                                      "service's address?") from None

    @staticmethod
    def place(address, lat, lng) -> Place | None:
        try:
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError):
            return None
        if not address or not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return None
        return Place(str(address)[:300], lat, lng)
