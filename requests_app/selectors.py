"""Reads of incidents, permission-aware: investigators see the cases they are assigned to (guardian object
permissions); supervisors and auditors see all."""

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from requests_app.models import Incident


def incidents_visible_to(*, user) -> QuerySet[Incident]:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Incident.objects.none()
    if user.has_perm("requests_app.view_all_incidents"):
        return Incident.objects.all()
    return get_objects_for_user(user, "requests_app.view_incident", Incident, accept_global_perms=False)


def can_view_incident(user, incident: Incident) -> bool:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.has_perm("requests_app.view_all_incidents") or user.has_perm("requests_app.view_incident", incident)


def can_work_incident(user, incident: Incident) -> bool:
    """May send requests and edit: an open case the user is assigned to, or any open case for a supervisor."""
    if incident.status != Incident.Status.OPEN or not can_view_incident(user, incident):
        return False
    return user.has_perm("requests_app.change_incident", incident) or (
        user.has_perm("requests_app.view_all_incidents") and user.has_perm("requests_app.change_incident"))


def incidents_workable_by(*, user) -> list[Incident]:
    return [incident for incident in incidents_visible_to(user=user).filter(status=Incident.Status.OPEN)
            .order_by("-created_at")[:200] if can_work_incident(user, incident)]
