"""Reads of incidents, permission-aware: investigators see the cases they are assigned to (guardian object
permissions); supervisors and auditors see all."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Now
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from common.access import is_program_staff
from requests_app.incident_access import incident_access
from requests_app.models import FootageRequest, Incident


def incidents_visible_to(*, user) -> QuerySet[Incident]:
    if not is_program_staff(user):
        return Incident.objects.none()
    if user.has_perm("requests_app.view_all_incidents"):
        return Incident.objects.all()
    return get_objects_for_user(user, "requests_app.view_incident", Incident, accept_global_perms=False)


def can_view_incident(user, incident: Incident) -> bool:
    return incident_access(user, incident).viewable


def clip_camera(clip):
    """The camera a clip or still came from: its footage request's, or the live view's a still was taken from;
    None when unknown or deleted since."""
    if clip.camera_id:
        return clip.camera
    return clip.request.camera if clip.request_id and clip.request.camera_id else None


def owners_in_cases_of(*, user) -> QuerySet:
    """The ids of the owners a case the user may view asked for footage: their contact details are part of the
    user's work (registry asks this through registry.selectors.owner_access_rules)."""
    return FootageRequest.objects.filter(incident__in=incidents_visible_to(user=user).values("pk"),
                                         camera__isnull=False).values("camera__owner_id")


def can_work_incident(user, incident: Incident) -> bool:
    """May send requests and edit: an open case the user is assigned to, or any open case for a supervisor."""
    if incident.status != Incident.Status.OPEN or not can_view_incident(user, incident):
        return False
    return user.has_perm("requests_app.change_incident", incident) or (
        user.has_perm("requests_app.view_all_incidents") and user.has_perm("requests_app.change_incident"))


def incidents_workable_by(*, user) -> list[Incident]:
    return [incident for incident in incidents_visible_to(user=user).filter(status=Incident.Status.OPEN)
            .order_by("-created_at")[:200] if can_work_incident(user, incident)]


# --- what police are shown of a request ------------------------------------------------------------------
# The terms promise that police are never told who declined. Every police-side view of a request (admin, API,
# exports) goes through these two, which agree: a decline is shown as the same "waiting" as no answer until
# the request lapses, then both are "no clip". Its answer time and the reminders it no longer got are hidden.

def police_state(request: FootageRequest, *, now=None) -> str:
    state, view = request.state, FootageRequest.PoliceView
    lapsed = request.expires_at is not None and request.expires_at <= (now or timezone.now())
    if state == FootageRequest.State.LAPSED or (state in _UNANSWERED_TO_POLICE and lapsed):
        return view.NO_CLIP
    if state in _UNANSWERED_TO_POLICE:
        return view.OPENED if request.opened_at else view.SENT
    return view(state)


_UNANSWERED_TO_POLICE = (*FootageRequest.AWAITING, FootageRequest.State.DECLINED)


def police_state_expression():
    """police_state() as a database expression, to filter, count and order by (never by the real state)."""
    view = FootageRequest.PoliceView
    waiting = Q(state__in=_UNANSWERED_TO_POLICE)
    return Case(
        When(state=FootageRequest.State.LAPSED, then=Value(view.NO_CLIP.value)),
        When(waiting & Q(expires_at__lte=Now()), then=Value(view.NO_CLIP.value)),
        When(waiting & Q(opened_at__isnull=False), then=Value(view.OPENED.value)),
        When(waiting, then=Value(view.SENT.value)),
        default=F("state"), output_field=CharField())


def requests_for_police(queryset: QuerySet[FootageRequest]) -> QuerySet[FootageRequest]:
    return queryset.annotate(police_state=police_state_expression())


def police_answered_at(request: FootageRequest):
    return request.answered_at if request.state in FootageRequest.SHOWN_ANSWERS else None


def police_reminders_sent(request: FootageRequest, *, now=None) -> int:
    """A declined request gets no more reminders; police are shown those an unanswered one would have had."""
    if request.state != FootageRequest.State.DECLINED or request.sent_at is None:
        return request.reminders_sent
    until = min(now or timezone.now(), request.expires_at or request.sent_at)
    return sum(1 for hours in settings.REQUEST_REMINDER_HOURS if request.sent_at + timedelta(hours=hours) <= until)


def police_state_counts(incident: Incident) -> dict[str, int]:
    rows = requests_for_police(incident.requests.all()).values("police_state").annotate(n=Count("id"))
    return {row["police_state"]: row["n"] for row in rows}
