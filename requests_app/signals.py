"""Signals other apps listen to without requests_app depending on them."""

from django.dispatch import Signal

# Sent inside the transaction that closes a case, with `incident`: live viewing for it ends with the case.
incident_closed = Signal()
