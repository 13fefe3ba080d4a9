"""An ArcGIS-compatible geocoder (a city's or county's GeocodeServer, or Esri's World geocoder):
findAddressCandidates and reverseGeocode with f=json.
https://developers.arcgis.com/rest/geocode/find-address-candidates/"""

import json

from addresses.geocoders.base import GeocoderUnavailable, HttpGeocoder, service_box
from addresses.selectors import REVERSE_MAX_M, Place

MIN_SCORE = 70  # ArcGIS scores candidates 0-100; below this they are guesses at another street


class ArcGIS(HttpGeocoder):
    name = "arcgis"

    def _checked(self, answer) -> dict:
        if not isinstance(answer, dict):
            raise GeocoderUnavailable(f"The address service ({self.host}) did not answer as ArcGIS does.")
        error = answer.get("error")
        # ArcGIS reports its own failures in a 200 answer; "Unable to find address" (in the message or the details
        # of a code 400) means there is no address there.
        if isinstance(error, dict) and "unable to find" not in json.dumps(error).lower():
            raise GeocoderUnavailable(f"The address service ({self.host}) refused the search: "
                                      f"{str(error.get('message') or error.get('code'))[:120]}.")
        return answer

    def search(self, text: str, limit: int) -> list[Place]:
        west, south, east, north = service_box()
        answer = self._checked(self.get_json("findAddressCandidates", {
            "SingleLine": text, "f": "json", "outSR": 4326, "maxLocations": limit, "outFields": "",
            "searchExtent": f"{west},{south},{east},{north}"}))
        places = []
        for candidate in answer.get("candidates") or []:
            if not isinstance(candidate, dict) or (candidate.get("score") or 0) < MIN_SCORE:
                continue
            location = candidate.get("location") or {}
            place = self.place(candidate.get("address"), location.get("y"), location.get("x"))
            if place:
                places.append(place)
        return places[:limit]

    def reverse(self, lat: float, lng: float) -> Place | None:
        answer = self._checked(self.get_json("reverseGeocode", {
            "location": f"{lng:.7f},{lat:.7f}", "f": "json", "outSR": 4326, "distance": REVERSE_MAX_M}))
        if "error" in answer:
            return None
        address, location = answer.get("address") or {}, answer.get("location") or {}
        return self.place(address.get("Match_addr") or address.get("Address"), location.get("y"), location.get("x"))
