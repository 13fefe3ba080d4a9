"""Every kind of ledger entry, in one enumeration. `record()` refuses an action not declared here, so a typo
fails the first time it runs (and `tests/audit/test_actions.py` finds literals that bypass it).

Each action says whether the camera's owner sees it in "Who accessed my cameras" and the daily digest, and in
what words (`owner_sees`); None means the entry is for auditors only (it concerns no owner, or it is the
owner's own bookkeeping that the portal shows elsewhere)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Action(StrEnum):
    owner_sees: str | None

    def __new__(cls, value: str, owner_sees=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.owner_sees = owner_sees
        return member

    # Footage requests and evidence
    REQUEST_MAILED = "request.mailed", _("asked you for footage")
    REQUEST_ANSWERED = "request.answered"
    REQUEST_LAPSED = "request.lapsed"
    REQUESTS_SENT = "requests.sent"
    REQUESTS_VIEWED = "requests.viewed"
    CLIP_UPLOADED = "clip.uploaded", _("you shared a clip")
    CLIP_DOWNLOADED = "clip.downloaded", _("downloaded your clip")
    CLIP_VIEWED = "clip.viewed", _("played your clip")
    CLIPS_LISTED = "clips.listed"
    CLIP_METADATA_VIEWED = "clip.metadata_viewed", _("looked at the details of your clip")
    CLIP_CUSTODY_VIEWED = "clip.custody_viewed", _("printed the chain-of-custody report of your clip")
    CLIP_CUSTODY_PDF_DOWNLOADED = "clip.custody_pdf_downloaded", _("downloaded the chain-of-custody report of your "
                                                                   "clip as a PDF")
    CLIP_INTEGRITY_FAILED = "clip.integrity_failed", _("found your clip altered and refused it")
    CLIP_PURGED = "clip.purged", _("deleted your clip (retention)")
    CLIP_LEGAL_HOLD_SET = "clip.legal_hold_set", _("put your clip under a legal hold (kept past its period)")
    CLIP_LEGAL_HOLD_RELEASED = "clip.legal_hold_released", _("released the legal hold on your clip")
    CLIP_STILL_TAKEN = "clip.still_taken", _("saved a still of your live picture as evidence")
    EVIDENCE_KEY_ROTATED = "evidence.key_rotated"
    # Object and attribute search (detections): a clip read by the indexer (people and vehicles, never faces), a clip
    # it could not index, detections purged with their clips, a search of a case (its attributes and reason), and a
    # thumbnail of a found person or vehicle opened.
    DETECTIONS_INDEXED = "detections.indexed", _("looked for people and vehicles in your clip (never faces)")
    DETECTIONS_INDEX_FAILED = "detections.index_failed"
    DETECTIONS_PURGED = "detections.purged"
    DETECTIONS_SEARCHED = "detections.searched"
    DETECTION_THUMBNAIL_VIEWED = "detections.thumbnail_viewed", _("looked at a person or vehicle found in your clip")
    # Live watches ("alert me when a match appears", detections/live.py): set, paused by a detector failure, ended;
    # each live view of a camera checked by a watch (once per watch and view), and each match shown on one.
    LIVE_WATCH_SET = "detections.live_watch_set"
    LIVE_WATCH_PAUSED = "detections.live_watch_paused"
    LIVE_WATCH_ENDED = "detections.live_watch_ended"
    LIVE_WATCH_CHECKED = "detections.live_watch_checked", _("checked a live view of your camera for a described "
                                                            "person or vehicle for a case")
    LIVE_WATCH_MATCH_SHOWN = "detections.live_watch_match_shown", _("marked a described person or vehicle on a live "
                                                                    "view of your camera for a case")
    # Backups and keys (issue 14): the key service or key store failing, backups taken and restored, and clips a
    # restored backup still listed although their shred keys had been destroyed since (recorded as CLIP_PURGED).
    EVIDENCE_KEY_FAILED = "evidence.key_failed"
    BACKUP_CREATED = "backup.created"
    BACKUP_RESTORED = "backup.restored"
    BACKUP_RESTORE_REFUSED = "backup.restore_refused"
    CLIP_VERIFIED = "clip.verified"  # the whole file's SHA-256 checked at rest (after a move, or the periodic check)
    CLIP_MOVED = "clip.moved"  # copied into another evidence store and verified there
    EVIDENCE_STORE_FAILED = "evidence.store_failed"  # the store refused, timed out or was cut mid-transfer
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_CLOSED = "incident.closed"
    # Footage requests: the incident page listing requests' cameras (issue 12, declines)
    REQUESTS_LISTED = "requests.listed", _("looked at the footage requests of a case, your camera among them")

    # Public area requests (public_requests): posted by an investigator, published once a supervisor approves (or at
    # once, by setting), withdrawn; an answer counted when its first clips are shared. The clips themselves are
    # CLIP_* entries like any other, which the uploader reads through their own link.
    PUBLIC_REQUEST_POSTED = "public_request.posted"
    PUBLIC_REQUEST_PUBLISHED = "public_request.published"
    PUBLIC_REQUEST_WITHDRAWN = "public_request.withdrawn"
    PUBLIC_ANSWER_SHARED = "public_answer.shared"
    PUBLIC_ANSWER_EMAILS_ERASED = "public_answer.emails_erased"  # uploaders' emails no receipt needs: counts only

    # Live integration
    LIVE_STARTED = "live.started", _("started watching live")
    LIVE_ENDED = "live.ended", _("stopped watching live")
    LIVE_OVERRIDE = "live.override"
    LIVE_OVERRIDE_REQUESTED = "live.override_requested", _("an analyst asked a supervisor for a live view without "
                                                           "an incident nearby")
    LIVE_OVERRIDE_APPROVED = "live.override_approved", _("a supervisor approved a live view without an incident "
                                                         "nearby, for one case")
    LIVE_OVERRIDE_REFUSED = "live.override_refused", _("a supervisor refused a live view without an incident nearby")
    LIVE_REFUSED = "live.refused"
    LIVE_WALL_OPENED = "live.wall_opened"  # the analyst's side; each tile is its own live.started
    LIVE_SESSION_VIEWED = "live.session_viewed"
    LIVE_SESSIONS_VIEWED = "live.sessions_viewed"
    LIVE_SHARE_SIGNED = "live.share_signed", _("you signed the live-sharing terms")
    LIVE_LIMITS_CHANGED = "live.limits_changed", _("you changed your live-sharing limits")
    LIVE_MASKS_CHANGED = "live.masks_changed", _("you changed your privacy masks")
    LIVE_SHARE_PAUSED = "live.share_paused", _("live sharing paused")
    LIVE_SHARE_RESUMED = "live.share_resumed", _("live sharing resumed")
    LIVE_SHARE_STOPPED = "live.share_stopped", _("live sharing stopped")
    # Pilot limits (integration/pilot.py, integration/queue.py)
    LIVE_SHARE_QUEUED = "live.share_queued", _("put your signed camera in the queue for live sharing: the program "
                                               "is full")
    LIVE_SHARE_ADMITTED = "live.share_admitted", _("started sharing your camera live: a place in the program freed")
    PILOT_ENDED = "pilot.ended"
    CONNECTOR_TOKEN_ISSUED = "connector.token_issued", _("a new connector token was issued")
    CONNECTOR_TOKEN_REVOKED = "connector.token_revoked", _("the connector token was revoked")
    CONNECTOR_REFUSED = "connector.refused"
    TRAINING_RECORDED = "training.recorded"
    LIVE_SESSIONS_PURGED = "purge.live_sessions"

    # The registry: owners' data and cameras read by staff and systems
    CAMERA_REGISTERED = "camera.registered"
    CAMERA_VIEWED = "camera.viewed", _("looked at your camera's details")
    CAMERA_ADMIN_SEARCH = "camera.admin_search"
    MAP_SEARCH = "map.search"
    # A staff member's address search or reverse lookup (addresses/views.py): the city's open address points, no
    # owner's data, so no owner sees it; recorded because every staff search is.
    ADDRESS_SEARCHED = "address.searched"
    MAP_VIEWED = "map.viewed"  # a staff map viewport load; owners see it summarised (audit.selectors)
    OWNER_CONTACT_VIEWED = "owner.contact_viewed", _("looked at your contact details")
    OWNER_CONTACTS_LISTED = "owner.contacts_listed"  # older entries; owner lists now write OWNER_CONTACT_LISTED
    REGISTRATIONS_PURGED = "registrations.purged"
    LINKS_PURGED = "links.purged"
    # Owner history (issue 12): a read of the change history that showed the owner's registration or camera.
    # (Map searches stay MAP_SEARCH: one entry names the owners it returned, and owners see them summarised.)
    CHANGE_HISTORY_VIEWED = "changes.viewed", _("looked at the change history of your registration")
    # Registry: staff reads of camera lists and staff deletions (issue 12, registry)
    CAMERA_LISTED = "camera.listed", _("saw your camera in a staff list of cameras")
    OWNER_CONTACT_LISTED = "owner.contact_listed", _("saw your contact details in the list of owners")
    OWNER_DELETED_BY_STAFF = "owner.deleted_by_staff"
    CAMERA_DELETED_BY_STAFF = "camera.deleted_by_staff"
    # The yearly re-confirmation (registry/reconfirmation.py): every step of the cycle, so owners see it in their
    # history and staff can tell a camera paused for silence from one its owner paused.
    RECONFIRMATION_ASKED = "reconfirmation.asked", _("asked you to confirm your camera still exists and points "
                                                     "where it did")
    RECONFIRMATION_REMINDED = "reconfirmation.reminded", _("reminded you to confirm your camera")
    CAMERA_RECONFIRMED = "camera.reconfirmed", _("confirmed the camera still exists and points where it did")
    CAMERA_PAUSED_UNCONFIRMED = "camera.paused_unconfirmed", _("paused your camera: it was not confirmed in time")
    CAMERA_PURGED_UNCONFIRMED = "camera.purged_unconfirmed", _("deleted your camera: it was not confirmed in time")

    # Invitation campaigns (invitations): a campaign's mail sent or letters printed, and an address that asked for no
    # more invitations (kept as a hash). No owner's data: auditors only.
    INVITATIONS_SENT = "invitations.sent"
    INVITATIONS_PRINTED = "invitations.printed"
    INVITATIONS_UNSUBSCRIBED = "invitations.unsubscribed"
    INVITATION_LISTS_PURGED = "invitations.lists_purged"
    # A neighbour's concern "Is a camera watching my home?" (concerns): the neighbour's confirmed concern, staff
    # looking up the cameras that see the address (each owner sees it), the owners asked, their answers, masks held
    # over the address until they answer, and the outcome mailed to the neighbour.
    CONCERN_RECEIVED = "concern.received"
    CONCERN_CAMERAS_VIEWED = "concern.cameras_viewed", _("looked at whether your camera sees a neighbour's home, "
                                                         "after the neighbour asked")
    CONCERN_OWNER_ASKED = "concern.owner_asked", _("a neighbour asked whether your camera sees their home: we asked "
                                                   "you to re-aim it or mask it")
    CONCERN_MASK_HELD = "concern.mask_held", _("masked a neighbour's home in your live picture until you answer "
                                               "their concern")
    CONCERN_ANSWERED = "concern.answered", _("you answered a neighbour's concern about your camera")
    CONCERN_CLOSED = "concern.closed"  # the outcome mailed to the neighbour: counts only
    CONCERNS_PURGED = "concerns.purged"  # unconfirmed concerns deleted, closed ones' email and text erased: counts

    # Dispatch
    CALLS_VIEWED = "calls.viewed"
    CALL_PROMOTED = "call.promoted"
    CALLS_PURGED = "calls.purged"
    POSITIONS_VIEWED = "positions.viewed"
    POSITIONS_PURGED = "positions.purged"
    DISPATCH_LIVE_OPENED = "dispatch.live_opened"
    # Bulletins to patrol units (bulletins): each send, each recipient's opening and acknowledgement, each read of a
    # bulletin's still, and the purge of expired stills. A still from a camera tells its owner, never its content.
    BULLETIN_SENT = "bulletin.sent"
    BULLETIN_STILL_SHARED = "bulletin.still_shared", _("shared a still from your camera with patrol units for a case")
    BULLETIN_CLIP_SHARED = "bulletin.clip_shared", _("shared a clip segment from your camera with patrol units for a "
                                                     "case")
    BULLETIN_SEGMENT_REQUESTED = "bulletin.segment_requested"  # the evidence clip read to cut a segment from it
    BULLETIN_SEGMENT_FAILED = "bulletin.segment_failed"
    BULLETIN_VIEWED = "bulletin.viewed"
    BULLETIN_MEDIA_VIEWED = "bulletin.media_viewed"
    BULLETIN_ACKNOWLEDGED = "bulletin.acknowledged"
    BULLETINS_MEDIA_PURGED = "bulletins.media_purged"

    # Staff accounts and API tokens
    SIGNIN_SUCCEEDED = "signin.succeeded"
    SIGNIN_FAILED = "signin.failed"
    ACCOUNT_LOCKED = "account.locked"
    ACCOUNT_UNLOCKED = "account.unlocked"
    ACCOUNT_DISABLED_INACTIVE = "account.disabled_inactive"
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"
    USER_ROLES_CHANGED = "user.roles_changed"
    MFA_ENROLLED = "mfa.enrolled"
    MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"
    API_TOKEN_CREATED = "api.token_created"
    API_TOKEN_REVOKED = "api.token_revoked"
    # Staff accounts (accounts): password resets by others, break-glass recovery, second factors removed
    USER_PASSWORD_RESET = "user.password_reset"
    USER_CHANGE_REFUSED = "user.change_refused"  # an attempt on an account out of the actor's reach
    ACCOUNT_RECOVERED = "account.recovered"
    MFA_DEVICE_REMOVED = "mfa.device_removed"

    # Public-records releases (records/): refusals, the anonymised registry, and a closed case's redacted clips.
    RECORDS_REFUSED = "records.refused"  # a release asked for that the policy or the case's state does not allow
    RECORDS_REFUSAL_LETTER = "records.refusal_letter"
    RECORDS_REGISTRY_EXPORTED = "records.registry_exported"  # no owner's data in it: no owner is named
    RELEASE_PREPARED = "release.prepared"
    RELEASE_OWNER_NOTIFIED = "release.owner_notified", _("told you a clip you shared will be released as a public "
                                                         "record, redacted, unless you object in time")
    RELEASE_OBJECTED = "release.objected", _("you objected to the release of your clips")
    RELEASE_DECIDED = "release.decided"
    RELEASE_VIEWED = "release.viewed"  # the review page: objections and redacted keyframes
    RELEASE_PUBLISHED = "release.published", _("released your clip as a public record, with faces, licence plates "
                                               "and your privacy masks blurred")
    REDACTION_STORED = "redaction.stored", _("made a redacted copy of your clip for a public-records request")
    REDACTION_FAILED = "redaction.failed"
    REDACTION_ADJUSTED = "redaction.adjusted"
    REDACTION_REVIEWED = "redaction.reviewed"
    REDACTION_KEYFRAME_VIEWED = "redaction.keyframe_viewed"  # the officer's preview of a redacted clip's frame
    REDACTED_CLIP_DOWNLOADED = "redaction.downloaded", _("downloaded the released, redacted copy of your clip")
    # Outside agencies (agencies/): requests, the legal reviewer's decisions, releases, packets, owner notices. A
    # release is for auditors only until the owner is told (a court may delay that): AGENCY_OWNER_TOLD is what
    # owners read. The transparency report counts requests, approvals and refusals by `agency_type` and
    # `legal_basis`, which each of those entries carries.
    AGENCY_MEMBER_ADDED = "agency.member_added"
    AGENCY_MEMBER_REMOVED = "agency.member_removed"
    AGENCY_REQUEST_FILED = "agency.request_filed"
    AGENCY_REQUEST_APPROVED = "agency.request_approved"
    AGENCY_REQUEST_REFUSED = "agency.request_refused"
    AGENCY_REQUEST_REVOKED = "agency.request_revoked"
    AGENCY_REQUEST_VIEWED = "agency.request_viewed"
    AGENCY_WARRANT_VIEWED = "agency.warrant_viewed"
    AGENCY_CLIP_RELEASED = "agency.clip_released"
    AGENCY_CLIP_DOWNLOADED = "agency.clip_downloaded"
    AGENCY_CAMERAS_LISTED = "agency.cameras_listed"
    AGENCY_ACCESS_REFUSED = "agency.access_refused"
    AGENCY_PACKET_ISSUED = "agency.packet_issued"
    AGENCY_PACKET_DOWNLOADED = "agency.packet_downloaded"
    AGENCY_PACKET_REVOKED = "agency.packet_revoked"
    AGENCY_OWNER_TOLD = "agency.owner_told", _("gave your footage to an outside agency on a legal basis the "
                                               "program's legal reviewer approved; you were emailed")

    # The ledger itself
    LEDGER_SEARCHED = "ledger.searched"
    LEDGER_EXPORTED = "ledger.exported"
    LEDGER_PURGED = "ledger.purged"

    # The program's policy (connect/presets.py, audit/policy.py): each change of the policy in force, and staff
    # reading the settings page
    POLICY_APPLIED = "policy.applied"
    SETTINGS_VIEWED = "settings.viewed"


def owner_visible() -> list[str]:
    """The actions an owner is shown, for filtering the ledger."""
    return [action.value for action in Action if action.owner_sees is not None]
