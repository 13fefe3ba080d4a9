"""Signals other apps listen to without requests_app depending on them."""

from django.dispatch import Signal

# Sent inside the transaction that closes a case, with `incident`: live viewing for it ends with the case.
incident_closed = Signal()

# Sent inside the transaction that stores a clip or a still, with `clip_id` and `camera_id` (None if unknown): apps
# above (detections) queue their work on it, which runs only once the clip is committed.
clip_stored = Signal()

# Sent inside the transaction that marks clips purged (retention, or a shred key found destroyed), with
# `clip_ids`: whatever was derived from them (detections) goes with them.
clips_purged = Signal()
