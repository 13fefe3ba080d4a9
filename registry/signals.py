"""What the registry tells the apps built on it, without importing them (they connect in their AppConfig.ready).

Every signal is sent by registry/services.py. Receivers run in the order their apps are listed in
INSTALLED_APPS and none relies on another having run. An exception in a receiver reaches the sender, so
when it is sent inside a transaction that transaction rolls back, as a direct call would.
"""

from django.dispatch import Signal

# An owner edited a camera (`camera_update`, inside its transaction, after the save) or staff changed it in
# the admin (`camera_changed_by_staff`, inside the admin's transaction, after any `camera_withdrawn`).
# Arguments: sender=Camera, camera. Integration stops a live share the camera is no longer eligible for.
camera_changed = Signal()

# A camera stops being watchable: paused by its owner (`camera_set_paused`, right after the paused status is
# saved; in its caller's transaction if there is one), made inactive by staff (`camera_changed_by_staff`), or
# about to be deleted (`camera_delete`, inside its transaction, before any row goes).
# Arguments: sender=Camera, camera, deleted (bool). Integration ends its live views at once.
camera_withdrawn = Signal()

# Cameras are being deleted (`camera_delete`, `owner_delete`), inside the deleting transaction, before the rows
# go. Arguments: sender=Camera, camera_ids (list of primary keys). Higher apps drop the personal data they keep
# about these cameras: requests_app scrubs its footage requests, integration forgets its change history.
cameras_deleted = Signal()

# An owner is being deleted with all their cameras (`owner_delete`), inside its transaction, before anything
# else is removed and before `cameras_deleted`. Arguments: sender=Owner, owner, camera_ids.
# Integration ends the live views of the owner's integrated cameras.
owner_deleted = Signal()

# A new owner registered (`owner_register`, inside its transaction, after the owner and cameras are saved).
# Arguments: sender=Owner, owner, invite (the opaque code of the invitation the person came from, or "").
# Invitations counts the registrations its campaigns brought.
owner_registered = Signal()
