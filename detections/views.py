"""The case's search page and the thumbnails of what it finds. Staff who may search and may view the case only;
every search and every thumbnail is in the ledger."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from common.base_map import map_config
from common.evidence_store import EvidenceStoreError
from common.sealed import EvidenceIntegrityError
from detections import colours, live, selectors, services
from detections.models import Detection, LiveWatch
from requests_app.evidence_keys import ClipDestroyed, EvidenceKeyUnavailable
from requests_app.models import Incident

DIRECTIONS = ("left", "right", "toward", "away", "still")
VEHICLE_TYPES = ("car", "van_truck", "two_wheeler")
WATCH_MINUTES_DEFAULT = 30
# What the page tells every searcher, in plain words (docs/BENCHMARKS.md holds the measured figures).
LIMITS = [
    "It finds whole people standing or walking upright, at least about a sixth of the picture's height (about "
    "130 px in a 720p frame); people sitting, lying, far away, half hidden or in a crowd are often missed. On "
    "real footage it found about four in five people in our check; on rendered figures nine in ten.",
    "It finds vehicles only in video, only while they move; parked vehicles and vehicles in stills are not found.",
    "Colours are coarse (eleven names) and follow the camera's white balance and light: at night, under street "
    "lights or in infrared, colours are unreliable.",
    "A hat is found only when it is a colour other than black, brown or skin tone (a dark hat looks like hair). "
    "A bag is found only when it shows at the side of the body in a colour unlike the clothing.",
    "Direction is across the picture as the camera sees it, not a compass direction.",
    "It never looks at faces: it cannot find a person by their face, and no result is one.",
]


def _case_for(request, code):
    incident = get_object_or_404(Incident, code=code)
    if not selectors.can_search(request.user, incident):
        raise Http404("No such case.")  # a case the user may not search is not confirmed to exist
    return incident


def _criteria(data, incident) -> tuple[selectors.Criteria, list[str]]:
    errors = []
    criteria = selectors.Criteria(kind=data.get("kind") if data.get("kind") in Detection.Kind.values else "person")
    for name in ("upper_colour", "lower_colour", "hat_colour", "vehicle_colour"):
        value = data.get(name, "")
        if value and value not in colours.COLOURS:
            errors.append(f"Unknown colour {value!r}.")
        elif value:
            setattr(criteria, name, value)
    criteria.hat = data.get("hat") == "on"
    criteria.bag = data.get("bag") == "on"
    if data.get("vehicle_type") in VEHICLE_TYPES:
        criteria.vehicle_type = data["vehicle_type"]
    if data.get("direction") in DIRECTIONS:
        criteria.direction = data["direction"]
    for name in ("since", "until"):
        text = data.get(name, "").strip()
        if text:
            try:
                value = parse_datetime(text)
            except ValueError:  # well formed but impossible, as 2026-02-30
                value = None
            if value is None:
                errors.append(f"“{text}” is not a date and time (for example 2026-03-01T14:30).")
            elif timezone.is_naive(value):  # the form's local time: the agency's time zone
                value = timezone.make_aware(value)
            setattr(criteria, name, value)
    allowed = {camera.pk for camera in selectors.case_cameras(incident=incident)}
    try:
        criteria.camera_ids = [int(v) for v in data.getlist("camera")] if hasattr(data, "getlist") else []
    except ValueError:
        errors.append("Unknown camera.")
    if set(criteria.camera_ids) - allowed:
        errors.append("Pick cameras of this case only.")
    return criteria, errors


@never_cache
@staff_member_required
@require_http_methods(["GET", "POST"])
def case_search(request, code):
    incident = _case_for(request, code)
    services.watches_expire(incident=incident)
    context = {"incident": incident, "watches": selectors.watches_of_case(incident=incident),
               "watch_minutes": request.POST.get("minutes", WATCH_MINUTES_DEFAULT), "colours": colours.COLOURS,
               "directions": DIRECTIONS,
               "vehicle_types": VEHICLE_TYPES, "cameras": selectors.case_cameras(incident=incident),
               "states": selectors.index_states(incident=incident),
               "not_indexed": selectors.clips_not_indexed(incident=incident)[:50], "limits": LIMITS,
               "form": request.POST if request.method == "POST" else {}, "searched": False,
               "map_config": map_config()}
    if request.method == "POST":
        criteria, errors = _criteria(request.POST, incident)
        reason = request.POST.get("reason", "").strip()
        if len(reason) < 5:
            errors.append("Write why you are searching (at least a few words): it goes into the access ledger.")
        watching = request.POST.get("action") == "watch"
        if watching and not errors:
            errors += _watch_set(request, incident, criteria, reason)
            if not errors:
                return redirect(f"{reverse('detections:case_search', args=[incident.code])}#det-watches")
        if errors:
            context["errors"] = errors
            return render(request, "detections/search.html", context, status=400)
        results = list(selectors.detections_matching(incident=incident, criteria=criteria))
        services.search_record(user=request.user, incident=incident, reason=reason[:500],
                               criteria=criteria.as_ledger(), results=len(results))
        shown = [_shown(item) for item in results]
        context.update(searched=True, results=shown, timeline=_timeline(results), points=[
            {"lat": r["lat"], "lng": r["lng"], "label": r["camera"].label, "n": i + 1}
            for i, r in enumerate(shown) if r["camera"] is not None])
    return render(request, "detections/search.html", context)


def _watch_set(request, incident, criteria: selectors.Criteria, reason: str) -> list[str]:
    """'Alert me when a match appears' on the case's open live views; the errors to show, if any."""
    wanted = {name: value for name, value in criteria.as_ledger().items() if name in live.WATCHED}
    wanted["kind"] = criteria.kind
    if len(wanted) < 2:
        return ["Pick at least one attribute to watch for."]
    try:
        minutes = int(request.POST.get("minutes", WATCH_MINUTES_DEFAULT))
        services.watch_set(user=request.user, incident=incident, criteria=wanted, reason=reason[:500],
                           minutes=minutes)
    except ValueError:
        return ["The time limit is a number of minutes."]
    except ValidationError as exc:
        return exc.messages
    return []


@never_cache
@staff_member_required
@require_POST
def watch_end(request, code, watch):
    incident = _case_for(request, code)
    found = get_object_or_404(LiveWatch.objects.select_related("incident"), code=watch, incident=incident)
    services.watch_end(watch=found, note=f"ended by {request.user.get_username()}", actor=request.user)
    return redirect(f"{reverse('detections:case_search', args=[incident.code])}#det-watches")


def _shown(item: Detection) -> dict:
    camera = item.camera
    return {"code": item.code, "item": item, "camera": camera,
            "lat": camera.location.y if camera else None, "lng": camera.location.x if camera else None,
            # Opened where it first appears.
            "open": f"{reverse('requests_app:clip_play', args=[item.clip.code])}?t={item.first_s:g}",
            "thumb": reverse("detections:thumbnail", args=[item.code])}


def _timeline(results: list[Detection]) -> list[dict]:
    """Each result's place on a line from the first to the last sighting, in percent (by recording time when the
    clips carry one, else by clip and second)."""
    keys = [(item.seen_at.timestamp() if item.seen_at else item.t_s) for item in results]
    if not keys:
        return []
    low, high = min(keys), max(keys)
    span = (high - low) or 1
    return [{"code": item.code, "left": round(100 * (key - low) / span, 1), "kind": item.kind}
            for item, key in zip(results, keys, strict=True)]


@never_cache
@staff_member_required
def thumbnail(request, code):
    detection = get_object_or_404(Detection.objects.select_related("clip__incident", "clip__request__camera__owner"),
                                  code=code)
    # Who may open the case's clips (requests_app.services.clip_open asks the same) and search it.
    if not selectors.can_search(request.user, detection.clip.incident):
        raise Http404("No such picture.")
    try:
        jpeg = services.thumbnail(detection=detection, user=request.user)
    except (EvidenceIntegrityError, ClipDestroyed, ValueError):
        raise Http404("The clip is no longer readable.") from None
    except (EvidenceKeyUnavailable, EvidenceStoreError):  # recorded where it failed; try again later
        return HttpResponse("The evidence store cannot be read just now.", status=503, content_type="text/plain")
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
