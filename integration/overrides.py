"""Two-person override of the owner's incident-nearby rule (issue 17, item 3).

An analyst asks, with a written reason, for one camera and one case (`override_request`); supervisors are told
(dashboard, email) and one of them, never the analyst, approves or refuses with a reason before the request's
deadline (`override_decide`). An approval lets that analyst open views of that camera for that case until it
runs out (`approved_override`, which gating consults); the session carries both reasons. Every step is in the
ledger, and the camera's owner reads the decision in their history.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common import roles
from common.queue import enqueue_on_commit
from integration.gating import MIN_REASON, OPEN_PERMISSION, OVERRIDE_PERMISSION
from integration.models import OverrideRequest


class OverrideRefused(Exception):
    """Asking or deciding was not allowed; the message says why, in words for the person who tried."""


def _fields(override: OverrideRequest) -> dict:
    camera, incident = override.camera, override.incident
    return {"target_type": "override_request", "target_code": override.code, "camera_code": camera.code,
            "owner_code": camera.owner.code, "incident_code": incident.code, "case_number": incident.case_number}


def override_request(*, analyst, camera, incident, reason: str) -> OverrideRequest:
    if not (analyst.is_active and analyst.is_staff and analyst.has_perm(OPEN_PERMISSION)):
        raise OverrideRefused("Only crime analysts may ask for an override.")
    if incident is None:
        raise OverrideRefused("An override is for one case: choose the incident the view is for.")
    if incident.status != incident.Status.OPEN:
        raise OverrideRefused(f"Case {incident.case_number} is closed.")
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise OverrideRefused(f"Write why the rule should be set aside, in at least {MIN_REASON} characters.")
    with transaction.atomic():
        override = OverrideRequest.objects.create(
            analyst=analyst, camera=camera, incident=incident, reason=reason[:500],
            decide_by=timezone.now() + timedelta(minutes=settings.LIVE_OVERRIDE_DECIDE_MINUTES))
        record(actor=analyst, action=Action.LIVE_OVERRIDE_REQUESTED, reason=override.reason,
               decide_by=override.decide_by.isoformat(), **_fields(override))
        from integration.tasks import override_request_notice_send_task

        enqueue_on_commit(override_request_notice_send_task, override.pk)
    return override


def _expire(override: OverrideRequest, now) -> bool:
    """Marks a pending request past its deadline as expired; says whether it was."""
    if override.state == OverrideRequest.State.PENDING and override.decide_by <= now:
        OverrideRequest.objects.filter(pk=override.pk, state=OverrideRequest.State.PENDING).update(
            state=OverrideRequest.State.EXPIRED)
        override.state = OverrideRequest.State.EXPIRED
        return True
    return False


def override_decide(*, supervisor, override: OverrideRequest, approve: bool, reason: str) -> OverrideRequest:
    """A second person's decision. Refused (and recorded) if they may not decide, or the request is no longer
    waiting, including one whose deadline passed."""
    reason = reason.strip()
    with transaction.atomic():
        override = OverrideRequest.objects.select_for_update().select_related(
            "camera__owner", "incident", "analyst").get(pk=override.pk)
        problem = _decision_problem(supervisor, override, reason)
        if not problem:
            now = timezone.now()
            override.decided_by, override.decided_at, override.decision_reason = supervisor, now, reason[:500]
            if approve:
                override.state = OverrideRequest.State.APPROVED
                override.valid_until = now + timedelta(minutes=settings.LIVE_OVERRIDE_VALID_MINUTES)
            else:
                override.state = OverrideRequest.State.REFUSED
            override.save()
            record(actor=supervisor,
                   action=Action.LIVE_OVERRIDE_APPROVED if approve else Action.LIVE_OVERRIDE_REFUSED,
                   reason=override.decision_reason, requested_by=override.analyst.get_username(),
                   request_reason=override.reason,
                   valid_until=override.valid_until.isoformat() if override.valid_until else None,
                   **_fields(override))
    if problem:  # recorded outside the transaction, which keeps an expiry it noticed
        record(actor=supervisor, action=Action.LIVE_REFUSED, refusal=problem, **_fields(override))
        raise OverrideRefused(problem)
    return override


def _decision_problem(supervisor, override: OverrideRequest, reason: str) -> str:
    if not (supervisor.is_active and supervisor.is_staff and supervisor.has_perm(OVERRIDE_PERMISSION)):
        return "Only a supervisor may decide an override."
    if supervisor.pk == override.analyst_id:
        return "An override needs a second person: someone else must decide your own request."
    if _expire(override, timezone.now()):
        return "This request was not decided in time and has expired; the analyst may ask again."
    if override.state != OverrideRequest.State.PENDING:
        return f"This request was already decided ({override.get_state_display().lower()})."
    if len(reason) < MIN_REASON:
        return f"Write the reason for your decision, in at least {MIN_REASON} characters."
    return ""


def approved_override(*, analyst, camera, incident, now=None) -> OverrideRequest | None:
    """The approval, still good, for this analyst, camera and case: what lets gating set the rule aside."""
    if incident is None:
        return None
    return (OverrideRequest.objects.filter(analyst=analyst, camera=camera, incident=incident,
                                           state=OverrideRequest.State.APPROVED,
                                           valid_until__gt=now or timezone.now())
            .select_related("decided_by").order_by("-valid_until").first())


def session_override_reason(override: OverrideRequest) -> str:
    """What a session opened on an approval carries as its override reason (owners and auditors read it)."""
    return (f"{override.reason} (approved by {override.decided_by.get_username()}: "
            f"{override.decision_reason})")[:500]


@dataclass
class Waiting:
    pending: list[OverrideRequest]
    decided: list[OverrideRequest]


def overrides_for_supervisor(supervisor, *, now=None) -> Waiting:
    """Pending requests (expired ones marked so first) and the week's decisions, for the supervisors' page."""
    now = now or timezone.now()
    OverrideRequest.objects.filter(state=OverrideRequest.State.PENDING, decide_by__lte=now).update(
        state=OverrideRequest.State.EXPIRED)
    base = OverrideRequest.objects.select_related("analyst", "incident", "camera", "decided_by")
    return Waiting(
        pending=list(base.filter(state=OverrideRequest.State.PENDING).order_by("decide_by")[:50]),
        decided=list(base.exclude(state=OverrideRequest.State.PENDING).filter(
            created_at__gte=now - timedelta(days=7)).order_by("-created_at")[:50]))


def supervisors_to_tell():
    return get_user_model().objects.filter(groups__name=roles.SUPERVISOR, is_active=True).exclude(email="")
