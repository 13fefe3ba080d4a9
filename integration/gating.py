"""The live-viewing rules, in one place. A view opens only if every rule passes, and an open view ends
as soon as one stops passing (owner revoked or paused, hours ended, analyst lost access)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.gis.measure import D
from django.utils import timezone

from common.access import is_outside, is_program_staff
from integration import pilot, selectors
from integration.hours import window_end
from integration.models import LiveSession
from integration.outside import OutsideGrant, outside_grant
from registry.models import Camera

MIN_REASON = 10
OPEN_PERMISSION = "integration.open_live_view"
OVERRIDE_PERMISSION = "integration.override_incident_rule"


class LiveRefused(Exception):
    def __init__(self, message: str, end_reason: str = LiveSession.EndReason.ACCESS_LOST):
        super().__init__(message)
        self.message = message
        self.end_reason = end_reason


def live_view_check(user, camera: Camera, incident, reason: str, override_reason: str = "", *,
                    opening: bool = True, now=None, approved: bool = False):
    """Returns when the view must end at the latest; raises LiveRefused with the rule that failed."""
    now = now or timezone.now()
    grant = None
    if is_outside(user):  # an outside agency's person: only within an approved request (integration/outside.py)
        grant = outside_grant(user, camera, now)
        if not isinstance(grant, OutsideGrant):
            raise LiveRefused(grant)
    elif not (is_program_staff(user) and user.has_perm(OPEN_PERMISSION)):
        raise LiveRefused("Live views are for crime analysts only.")
    training_until = selectors.training_valid_until(user)
    if training_until is None:
        raise LiveRefused("You have no privacy training on record. Live views need current training.")
    if training_until < now.date():
        raise LiveRefused(f"Your privacy training expired on {training_until:%Y-%m-%d}. Renew it to open live views.")
    if pilot.program_ended(now):  # at once, not when beat next stops the shares
        raise LiveRefused("The pilot program has ended: live sharing is over.", LiveSession.EndReason.OWNER_STOPPED)
    problem = selectors.live_share_ineligible(camera, for_viewing=True)
    if problem:
        raise LiveRefused(problem, LiveSession.EndReason.OWNER_STOPPED)
    share = selectors.live_share_current(camera)
    if share is None:
        raise LiveRefused("The owner does not share this camera live.", LiveSession.EndReason.OWNER_STOPPED)
    if share.paused_until and share.paused_until > now:
        raise LiveRefused(f"The owner paused live sharing until "
                          f"{timezone.localtime(share.paused_until):%Y-%m-%d %H:%M}.",
                          LiveSession.EndReason.OWNER_PAUSED)
    hours_end = window_end(share.hours, now)
    if hours_end is None:
        raise LiveRefused("The owner does not allow live viewing at this hour.", LiveSession.EndReason.HOURS_ENDED)
    if opening and len(reason.strip()) < MIN_REASON:
        raise LiveRefused(f"Give a reason of at least {MIN_REASON} characters.")
    limit = now + timedelta(minutes=share.max_session_minutes)
    if grant is not None:
        # The owner allowed views only for the program's own nearby open cases: an outside request is not one.
        if share.incident_required:
            raise LiveRefused("The owner allows live views only for the program's open incidents nearby: not for "
                              "an outside agency's request.", LiveSession.EndReason.OWNER_STOPPED)
        return min(limit, hours_end, grant.until)
    _incident_check(user, camera, share, incident, override_reason, approved)
    return min(limit, hours_end)


def _incident_check(user, camera, share, incident, override_reason: str, approved: bool) -> None:
    if incident is not None and incident.status != incident.Status.OPEN:
        raise LiveRefused(f"Case {incident.case_number} is closed.", LiveSession.EndReason.CASE_CLOSED)
    if not share.incident_required:
        return
    near = incident is not None and type(incident).objects.filter(
        pk=incident.pk, location__dwithin=(camera.location, D(m=share.incident_radius_m))).exists()
    if near or approved:  # approved: a second person's override of this rule (integration/overrides.py)
        return
    if override_reason.strip():
        if not user.has_perm(OVERRIDE_PERMISSION):
            raise LiveRefused("Only a supervisor may set the incident rule aside.")
        if not settings.LIVE_SELF_OVERRIDE:
            raise LiveRefused("Setting the incident rule aside needs a second person: ask for an override and "
                              "another supervisor approves it.")
        if len(override_reason.strip()) < MIN_REASON:
            raise LiveRefused(f"Write an override reason of at least {MIN_REASON} characters.")
        return
    if incident is None:
        raise LiveRefused(f"The owner allows live views only for an open incident within "
                          f"{share.incident_radius_m} m. Choose one.")
    raise LiveRefused(f"Case {incident.case_number} is farther than the {share.incident_radius_m} m the owner allows.")
