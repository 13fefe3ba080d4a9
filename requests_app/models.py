"""Incidents, the footage requests sent for them, and the evidence clips owners answer with."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case_number = models.CharField(max_length=32, unique=True)
    offense_type = models.CharField(max_length=80)
    location = models.PointField(geography=True, srid=4326)
    address = models.CharField(max_length=300, blank=True)
    starts_at = models.DateTimeField("window start")
    ends_at = models.DateTimeField("window end")
    radius_m = models.PositiveIntegerField("search radius (m)", default=300)
    owner_summary = models.TextField(
        help_text="What camera owners are told, for example 'A car was broken into on this block'. "
                  "Never names, suspects or victims.")
    internal_notes = models.TextField(blank=True, help_text="Staff only; never shown to owners.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    investigators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="incidents")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="incident_created_at")]  # serves the ordering
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="incident_window_order")]
        # Investigators see the incidents they are assigned to (object permissions); these roles see all.
        permissions = [("view_all_incidents", "Can view every incident and its evidence")]

    def __str__(self):
        return f"{self.case_number} {self.offense_type}"


class RequestBatch(models.Model):
    """One investigator's 'send requests' to a set of cameras; shows how far sending has got."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"batch {self.pk} for {self.incident.case_number}"


class FootageRequest(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        OPENED = "opened", "Opened"
        UPLOADED = "uploaded", "Uploaded"
        NO_FOOTAGE = "no_footage", "No footage"
        DECLINED = "declined", "Declined"
        LAPSED = "lapsed", "No answer (lapsed)"
        FAILED = "failed", "Failed to send"

    class PoliceView(models.TextChoices):
        """What every police role is shown of a request (`requests_app.selectors.police_state`): a decline looks
        like no answer, "waiting" until the request lapses and "no clip" after, as the terms promise."""

        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent, waiting for an answer"
        OPENED = "opened", "Opened, waiting for an answer"
        UPLOADED = "uploaded", "Clips shared"
        NO_FOOTAGE = "no_footage", "No footage"
        NO_CLIP = "no_clip", "No clip"
        FAILED = "failed", "Failed to send"

    ANSWERED = (State.UPLOADED, State.NO_FOOTAGE, State.DECLINED)
    AWAITING = (State.SENT, State.OPENED)
    # Answers police are shown as soon as they are given; a decline is not one of them.
    SHOWN_ANSWERS = (State.UPLOADED, State.NO_FOOTAGE)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="requests")
    batch = models.ForeignKey(RequestBatch, null=True, on_delete=models.SET_NULL, related_name="requests")
    # The camera may be deleted by its owner later; the request and any evidence remain.
    camera = models.ForeignKey("registry.Camera", null=True, on_delete=models.SET_NULL, related_name="footage_requests")
    camera_label = models.CharField(max_length=120)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED, db_index=True)
    nonce = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it to send")
    # The token of the claim that took it: its worker holds an advisory lock named by it while it sends
    # (requests_app/mailing.py), so the sweep knows a dead worker's claim at once.
    claim = models.IntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    decline_reason = models.TextField(blank=True)
    final_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the lapse sweep closed it for answers (unanswered or declined alike)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["created_at"], name="footage_request_created_at")]  # serves the ordering
        constraints = [
            # Sending again never duplicates: one request per camera per incident.
            models.UniqueConstraint(fields=["incident", "camera"], name="one_request_per_camera_per_incident"),
        ]

    def __str__(self):
        # No camera label: it often carries the owner's name, and this string is copied into histories.
        return f"request {str(self.code)[:8]} for {self.incident.case_number}"

    @property
    def is_answered(self) -> bool:
        return self.state in self.ANSWERED


class Clip(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(FootageRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="clips")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="clips")
    original_name = models.CharField(max_length=255)
    # The camera a still taken from a live view came from (an owner's upload has its request's camera): its privacy
    # masks go with the still wherever it is sent. A deleted camera leaves the evidence, unlinked.
    camera = models.ForeignKey("registry.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    media_format = models.CharField(max_length=64, help_text="As PyAV found it, not as the name says")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=80, unique=True)
    master_key_id = models.CharField(max_length=16)
    wrapped_key = models.BinaryField(null=True, help_text="Destroyed to crypto-shred the clip")
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="From the file's own metadata, if any")
    keep_days_after_close = models.PositiveIntegerField(help_text="Chosen by the owner")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.CharField(max_length=150, help_text="'owner' or the staff user name")
    integrity_failed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When its whole SHA-256 was last checked at rest and matched")
    legal_hold = models.BooleanField(default=False, help_text="Kept past its retention period by court order")
    legal_hold_reason = models.CharField(max_length=300, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="Its data key was destroyed")
    receipt_sent_at = models.DateTimeField(null=True, blank=True,
                                           help_text="When the owner's deletion receipt went out (a sweep resends)")

    class Meta:
        ordering = ["uploaded_at"]
        indexes = [models.Index(fields=["uploaded_at"], name="clip_uploaded_at")]  # serves the ordering

    def __str__(self):
        return f"{self.original_name} ({self.sha256[:12]})"
