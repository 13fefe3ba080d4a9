"""The program's records policy (CONNECT_RECORDS_POLICY) and the reasons a release is refused, in words a records
officer can quote to a requester."""

from django.conf import settings

CONFIDENTIAL = "confidential"
RELEASABLE = "releasable"


class ReleaseRefused(Exception):
    """A release that the policy or the case's state does not allow; `str()` is the reason, for the officer."""


def policy() -> str:
    return settings.RECORDS_POLICY


def confidential_reason() -> str:
    return ("This program's records policy is confidential (CONNECT_RECORDS_POLICY=confidential): the camera "
            "registry and the footage residents share are not public records and are never released. A records "
            "officer can print the refusal letter that says so.")


def release_allowed_check(incident=None) -> None:
    """Raises ReleaseRefused unless the policy releases records and, for footage, its case is closed."""
    if policy() != RELEASABLE:
        raise ReleaseRefused(confidential_reason())
    if incident is not None and incident.status != incident.Status.CLOSED:
        raise ReleaseRefused(f"Case {incident.case_number} is still open: its footage may be released only after "
                             "the case is closed.")
