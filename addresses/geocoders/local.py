"""connect's own address points (manage.py import_addresses): no outside service, works offline."""

from addresses.selectors import Place, address_nearest, addresses_matching


class Local:
    name = "local"

    def search(self, text: str, limit: int) -> list[Place]:
        return addresses_matching(text=text, limit=limit)

    def reverse(self, lat: float, lng: float) -> Place | None:
        return address_nearest(lat=lat, lng=lng)
