"""Bulletins, their recipients and the patrol officers who receive them.

A bulletin's media (a still) is sealed at rest: AES-256-GCM under a data key of its own, wrapped by the key
service's master key (common.sealed). Purging it destroys the wrapped key and the ciphertext (crypto-shredding)."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone


class PatrolOfficer(models.Model):
    """Ties a staff account to the dispatch unit it rides in (the unit ids vehicle location pushes) and its zone."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patrol_officer")
    unit = models.CharField(max_length=32, unique=True, help_text="The unit id vehicle location reports")
    zone = models.CharField(max_length=80, blank=True, help_text="The district this officer patrols")

    def __str__(self):
        return f"{self.unit} ({self.user.get_username()})"


class Bulletin(models.Model):
    class Priority(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        EMERGENCY = "emergency", "Emergency"

    class State(models.TextChoices):
        SENT = "sent", "Sent"
        PREPARING = "preparing", "Re-encoding the clip segment"  # nobody has it yet
        FAILED = "failed", "Not sent: the clip segment could not be made"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    failure = models.TextField(blank=True, help_text="Why the clip segment could not be made (shown to the sender)")
    thread = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="updates",
                               help_text="The first bulletin this one updates")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey("requests_app.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    case_number = models.CharField(max_length=32, blank=True)
    location = models.PointField(geography=True, srid=4326, null=True, blank=True)
    description = models.TextField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.URGENT)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    # The still, sealed; the camera and owner codes only for the ledger (never shown to recipients).
    media_type = models.CharField(max_length=40, blank=True)
    media_sealed = models.BinaryField(null=True, blank=True)
    media_key_wrapped = models.BinaryField(null=True, blank=True)
    media_key_id = models.CharField(max_length=80, blank=True)
    media_purged_at = models.DateTimeField(null=True, blank=True)
    media_saved_to_case = models.BooleanField(default=False)
    camera_code = models.CharField(max_length=36, blank=True)
    owner_code = models.CharField(max_length=36, blank=True)
    # A clip segment: the evidence clip it is cut from, its in and out points, and who gets it once it is made.
    clip_code = models.CharField(max_length=36, blank=True)
    clip_in_s = models.FloatField(null=True, blank=True)
    clip_out_s = models.FloatField(null=True, blank=True)
    pending_to = models.JSONField(default=list, blank=True, help_text="[[user id, how addressed]] until sent")
    transcode_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("receive_bulletin", "Receive bulletins on the patrol page"),
            ("send_bulletin", "Send bulletins to patrol units"),
            ("view_all_bulletins", "Read every bulletin and its receipts (supervision, audit)"),
        ]

    def __str__(self):
        return f"bulletin {self.code}"

    @property
    def has_media(self) -> bool:
        """Whether the still or segment may be served: not destroyed, and not expired either (beat destroys expired
        media every few minutes; until then it is already gone for everyone), unless it was saved to the case."""
        if self.media_key_wrapped is None or self.media_purged_at is not None:
            return False
        return self.media_saved_to_case or self.expires_at is None or self.expires_at > timezone.now()

    @property
    def is_clip(self) -> bool:
        return bool(self.clip_code)


class Recipient(models.Model):
    """One person a bulletin was sent to, and how far it got: received (on their page), opened, acknowledged."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    via = models.CharField(max_length=120, help_text="unit X within N km, zone Z, or named")
    received_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulletin", "user"], name="bulletin_recipient_once")]

    @property
    def state(self) -> str:
        if self.acknowledged_at:
            return "acknowledged"
        if self.opened_at:
            return "opened"
        if self.received_at:
            return "received"
        return "sent"


class PushSubscription(models.Model):
    """A browser's Web Push subscription of a patrol officer (one per device): where the push service takes
    messages (`endpoint`) and the keys their content is encrypted to. Deleted when the push service says it is gone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"push subscription of {self.user_id}"
