"""Live integration: an owner's signed live-sharing agreement and limits, privacy masks, connector tokens,
the live sessions analysts open, and the privacy training that gates them.

Cross-app keys point at registry.Camera and requests_app.Incident only (DESIGN.md).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_hours() -> dict:
    """Every day, all day: the owner narrows it when opting in."""
    return {day: ["00:00", "24:00"] for day in WEEKDAYS}


class LiveShare(models.Model):
    """The owner's signed agreement to share one camera live, and the limits they set on it.

    A share is live while signed, not revoked and not paused. Revoking ends it for good (the owner may
    sign again later, which makes a new share); pausing ends viewing until `paused_until`.
    """

    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="live_shares")
    terms_version = models.CharField(max_length=32)
    signed_name = models.CharField(max_length=200, help_text="The name the owner typed to sign")
    signed_at = models.DateTimeField()
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    hours = models.JSONField(default=default_hours, help_text="Per weekday, [from, to] in local time, or null")
    incident_required = models.BooleanField(default=True)
    incident_radius_m = models.PositiveIntegerField(default=300)
    max_session_minutes = models.PositiveSmallIntegerField(default=30)
    notify_each_view = models.BooleanField(default=False)
    paused_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True, help_text="'owner' or the staff user name")

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["signed_at"], name="live_share_signed_at")]  # serves the ordering
        constraints = [
            # At most one share in force per camera; revoked ones stay as the record of what was signed.
            models.UniqueConstraint(fields=["camera"], condition=Q(revoked_at__isnull=True),
                                    name="live_share_one_current_per_camera"),
            models.CheckConstraint(condition=Q(incident_radius_m__gte=50, incident_radius_m__lte=5000),
                                   name="live_share_radius_range"),
            models.CheckConstraint(condition=Q(max_session_minutes__gte=1, max_session_minutes__lte=240),
                                   name="live_share_session_range"),
        ]

    def __str__(self):
        return f"live share of camera {self.camera_id} signed {self.signed_at:%Y-%m-%d}"


class PrivacyMask(models.Model):
    """A region the owner blacked out: a polygon in fractions of the frame (0..1), so it fits any size."""

    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="privacy_masks")
    label = models.CharField(max_length=80, blank=True)
    points = models.JSONField(help_text="[[x, y], ...] with 0 <= x, y <= 1, at least three points")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set: placed automatically over a neighbour's home until the owner answers the neighbour's concern (the
    # concerns app, CONNECT_CONCERN_MASK_PENDING); the owner's editor neither shows nor replaces such masks.
    held_for = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.label or f"mask {self.pk}"


class ConnectorToken(models.Model):
    """A camera connector's credential. Only its SHA-256 is kept; the token is shown once when made."""

    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="connector_tokens")
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="connector_token_created_at")]  # serves the ordering
        constraints = [models.UniqueConstraint(fields=["camera"], condition=Q(revoked_at__isnull=True),
                                               name="connector_token_one_current_per_camera")]

    def __str__(self):
        return f"{self.prefix}… ({'revoked' if self.revoked_at else 'current'})"


class LiveSession(models.Model):
    class EndReason(models.TextChoices):
        VIEWER_CLOSED = "viewer_closed", "The analyst closed the view"
        VIEWER_LOST = "viewer_lost", "The analyst's connection was lost"
        TIME_LIMIT = "time_limit", "The owner's session limit was reached"
        HOURS_ENDED = "hours_ended", "The owner's allowed hours ended"
        OWNER_STOPPED = "owner_stopped", "The owner stopped sharing"
        OWNER_PAUSED = "owner_paused", "The owner paused sharing"
        ACCESS_LOST = "access_lost", "The analyst lost their access"
        CASE_CLOSED = "case_closed", "The case was closed"
        NEVER_OPENED = "never_opened", "The view was never opened"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="live_sessions")
    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="live_sessions")
    incident = models.ForeignKey("requests_app.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="live_sessions")
    reason = models.CharField(max_length=500)
    override_reason = models.CharField(max_length=500, blank=True,
                                       help_text="A supervisor's written reason for setting the incident rule aside")
    override = models.ForeignKey("OverrideRequest", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="sessions", help_text="The second person's approval it opened on")
    # An outside agency's view, opened under its approved request (integration/outside.py): the owner is shown it.
    outside_agency = models.CharField(max_length=200, blank=True)
    outside_request = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    watched_at = models.DateTimeField(null=True, blank=True, help_text="When the analyst's view connected")
    ends_by = models.DateTimeField(help_text="The latest end: the owner's session limit or allowed hours")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [("open_live_view", "Can open a live view of an integrated camera"),
                       ("override_incident_rule", "Can open a live view without an incident nearby, giving a reason")]
        indexes = [models.Index(fields=["camera"], condition=Q(ended_at__isnull=True), name="live_session_open"),
                   models.Index(fields=["started_at"], name="live_session_started_at")]  # serves the ordering

    def __str__(self):
        return f"live session {self.code}"

    @property
    def minutes(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds() / 60, 1)


class TrainingRecord(models.Model):
    """Privacy training a staff member completed; live viewing needs a current one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records")
    course = models.CharField(max_length=200, default="Live camera privacy and civil liberties")
    completed_on = models.DateField()
    hours = models.DecimalField(max_digits=4, decimal_places=1)
    recorded_by = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on"]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive")]

    def __str__(self):
        return f"{self.course} ({self.completed_on})"


class OverrideRequest(models.Model):
    """An analyst's request to set the owner's incident-nearby rule aside for one camera and one case, and a second
    person's decision: a supervisor approves (good for CONNECT_LIVE_OVERRIDE_VALID_MINUTES) or refuses, each with
    a written reason, before CONNECT_LIVE_OVERRIDE_DECIDE_MINUTES pass (integration/overrides.py)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a supervisor"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        EXPIRED = "expired", "Not decided in time"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="override_requests")
    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="override_requests")
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.PROTECT, related_name="override_requests")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    decide_by = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="An approval's end")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="override_request_created_at")]  # serves the ordering
        constraints = [models.CheckConstraint(
            condition=~Q(state="approved") | Q(valid_until__isnull=False, decided_by__isnull=False),
            name="override_approval_complete")]

    def __str__(self):
        return f"override request {str(self.code)[:8]} ({self.state})"


class LiveShareWaiting(models.Model):
    """An owner's signature kept in the queue while the program's limit of integrated cameras of their kind is
    reached (CONNECT_LIVE_MAX_*). Not a share: nothing can be viewed until it is admitted (integration/pilot.py),
    oldest first, when a place of its kind frees; then it becomes a LiveShare with these limits."""

    camera = models.OneToOneField("registry.Camera", on_delete=models.CASCADE, related_name="live_share_waiting")
    kind = models.CharField(max_length=16, help_text="The owner's kind when they signed: the queue it waits in")
    signed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    limits = models.JSONField(help_text="The limits the owner set, applied when admitted")

    class Meta:
        ordering = ["kind", "signed_at"]  # each queue, oldest first
        indexes = [models.Index(fields=["kind", "signed_at"], name="live_waiting_queue")]  # serves the ordering

    def __str__(self):
        return f"camera {self.camera_id} waiting since {self.signed_at:%Y-%m-%d}"
