"""A Nominatim-compatible geocoder (OpenStreetMap's, or the city's own instance): /search and /reverse in jsonv2.
https://nominatim.org/release-docs/latest/api/Search/"""

from math import cos, radians, sqrt

from addresses.geocoders.base import GeocoderUnavailable, HttpGeocoder, service_box
from addresses.selectors import REVERSE_MAX_M, Place


class Nominatim(HttpGeocoder):
    name = "nominatim"

    def search(self, text: str, limit: int) -> list[Place]:
        west, south, east, north = service_box()
        answer = self.get_json("search", {"q": text, "format": "jsonv2", "limit": limit, "addressdetails": 0,
                                          "viewbox": f"{west},{north},{east},{south}", "bounded": 1})
        if not isinstance(answer, list):
            raise GeocoderUnavailable(f"The address service ({self.host}) did not answer as Nominatim does.")
        places = (self.place(item.get("display_name"), item.get("lat"), item.get("lon"))
                  for item in answer if isinstance(item, dict))
        return [place for place in places if place][:limit]

    def reverse(self, lat: float, lng: float) -> Place | None:
        # zoom 18: a building; Nominatim answers {"error": "Unable to geocode"} where it finds none.
        answer = self.get_json("reverse", {"lat": f"{lat:.7f}", "lon": f"{lng:.7f}", "format": "jsonv2",
                                           "zoom": 18})
        if not isinstance(answer, dict):
            raise GeocoderUnavailable(f"The address service ({self.host}) did not answer as Nominatim does.")
        if "error" in answer:
            return None
        place = self.place(answer.get("display_name"), answer.get("lat"), answer.get("lon"))
        if place and _metres_apart(place.lat, place.lng, lat, lng) > REVERSE_MAX_M:
            return None
        return place


def _metres_apart(lat1, lng1, lat2, lng2) -> float:
    dy = (lat2 - lat1) * 111_320
    dx = (lng2 - lng1) * 111_320 * cos(radians((lat1 + lat2) / 2))
    return sqrt(dx * dx + dy * dy)
