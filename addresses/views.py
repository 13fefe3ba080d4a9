"""Type-ahead address search and reverse lookup, as JSON, for every map that asks for a place: registration,
the owner's camera page, the incident admin widget and the staff map.

What they answer is only address text and a point: never a camera or an owner. Anyone may ask (a resident
registering has no account), so anyone but signed-in staff is rate-limited per address.

Staff searches are recorded in the ledger, as the staff map's searches are. Residents' and owners' searches are
not: the address points are the city's open data and say nothing about any owner, while the text a resident types
is usually their own home address, and the ledger is append-only for a year, so recording it would keep personal
data that deleting the registration must remove (DESIGN.md: a deletion removes their personal data)."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET

from addresses.geocoders import GeocoderUnavailable, geocoder
from addresses.selectors import MIN_CHARS, SUGGESTIONS
from audit.actions import Action
from audit.ledger import record
from common.access import is_program_staff
from common.client import client_ip
from common.ratelimit import over_limit

MAX_QUERY = 200


def _is_staff(request) -> bool:
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff


def _refused(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _over_limit(request) -> bool:
    if not settings.RATE_LIMITS_ENABLED or is_program_staff(request.user):  # an agency's account is limited
        return False
    return over_limit("address-search:ip", client_ip(request) or "", limit=settings.ADDRESS_SEARCH_PER_MINUTE,
                      window_s=60)


def _too_many() -> JsonResponse:
    return _refused(gettext("Too many address searches from your connection. Wait a minute, or place the camera "
                            "on the map."), 429)


@require_GET
def search(request):
    """?q=text -> {"results": [{"address", "lat", "lng"}, ...]}."""
    text = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    if "\x00" in text:
        return _refused(gettext("The search contains a NUL character (often pasted by mistake): retype it."), 400)
    if len(text) < MIN_CHARS:
        return _refused(ngettext("Type at least %(n)d character of the address.",
                                 "Type at least %(n)d characters of the address.", MIN_CHARS) % {"n": MIN_CHARS}, 400)
    if _over_limit(request):
        return _too_many()
    try:
        places = geocoder().search(text, SUGGESTIONS)
    except GeocoderUnavailable as exc:
        return _refused(str(exc), 502)
    if _is_staff(request):
        record(actor=request.user, action=Action.ADDRESS_SEARCHED, target_type="address", query=text,
               results=len(places), via=request.GET.get("via", "")[:20])
    return JsonResponse({"results": [place.as_json() for place in places]})


@require_GET
def reverse(request):
    """?lat=&lng= -> {"result": {"address", "lat", "lng"} or null}: the address point nearest a click."""
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        return _refused(gettext("Give lat and lng in degrees."), 400)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return _refused(gettext("Give lat and lng in degrees."), 400)
    if _over_limit(request):
        return _too_many()
    try:
        place = geocoder().reverse(lat, lng)
    except GeocoderUnavailable as exc:
        return _refused(str(exc), 502)
    if _is_staff(request):
        record(actor=request.user, action=Action.ADDRESS_SEARCHED, target_type="address", reverse=True,
               lat=round(lat, 6), lng=round(lng, 6), results=int(place is not None),
               via=request.GET.get("via", "")[:20])
    return JsonResponse({"result": place.as_json() if place else None})
