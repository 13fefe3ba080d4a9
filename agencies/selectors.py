"""Reads for outside agencies: whose a user is, what an agency may see, and whether a request's approved scope is
reachable now. Deny by default: anything not inside an approved, unexpired scope is out of reach."""

from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import AgencyMember, AgencyRequest, OutsideAgency

# user_is_outside as SQL, for the staff map's one-statement checks (common.access.outside_rule_add).
USER_IS_OUTSIDE_SQL = f"EXISTS (SELECT 1 FROM {AgencyMember._meta.db_table} WHERE user_id = %(user_id)s)"


def user_is_outside(user) -> bool:
    """The central guard's rule (common.access.is_outside)."""
    return AgencyMember.objects.filter(user_id=user.pk).exists()


def agency_of(user) -> OutsideAgency | None:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return None
    member = AgencyMember.objects.select_related("agency").filter(user_id=user.pk).first()
    return member.agency if member else None


def requests_of_agency(agency: OutsideAgency) -> QuerySet[AgencyRequest]:
    return AgencyRequest.objects.filter(agency=agency).select_related("warrant", "incident")


def request_of_agency(agency: OutsideAgency, code) -> AgencyRequest | None:
    """One request of this agency; another agency's, or a guessed code, is none."""
    return requests_of_agency(agency).filter(code=code).first()


def reachable_until(request: AgencyRequest):
    """When the approved scope stops being reachable: the approved expiry, never past the warrant's."""
    if request.approved_until is None:
        return None
    if request.warrant_id is not None:
        return min(request.approved_until, request.warrant.expires_at)
    return request.approved_until


def unreachable_reason(request: AgencyRequest, *, now=None) -> str:
    """Why the approved scope cannot be reached now ('' when it can)."""
    now = now or timezone.now()
    if request.state != AgencyRequest.State.APPROVED:
        return f"This request is {request.get_state_display().lower()}, not approved."
    if request.warrant_id is not None and request.warrant.expires_at <= now:
        return "The warrant or court order of this request has expired."
    until = reachable_until(request)
    if until is None or until <= now:
        return "The approved access to this request has expired."
    return ""


def requests_to_review() -> QuerySet[AgencyRequest]:
    return AgencyRequest.objects.select_related("agency", "warrant", "incident", "filed_by")
