"""The program's warrant rule (CONNECT_WARRANT_REQUIRED_TYPES, CONNECT_PROGRAM_STATE)."""

from django.conf import settings

from agencies.models import OutsideAgency

OUT_OF_STATE = "out_of_state"


def warrant_required(agency: OutsideAgency) -> bool:
    """Whether this agency's requests must carry a warrant or court order."""
    marked = {value.strip().lower() for value in settings.WARRANT_REQUIRED_TYPES}
    if agency.type in marked:
        return True
    return OUT_OF_STATE in marked and agency.jurisdiction_state.upper() != settings.PROGRAM_STATE.upper()


def agency_type_label(agency: OutsideAgency) -> str:
    """How the transparency report groups the agency: its type, and whether it is out of state."""
    if agency.jurisdiction_state.upper() != settings.PROGRAM_STATE.upper():
        return f"{agency.type} (out of state)"
    return agency.type
