"""What the indexer found in a case's clips: people and vehicles, by clothing, carried objects, type and colour.

Never faces: nothing here describes, crops or stores a face (tests/detections/test_no_faces.py)."""

import uuid

from django.conf import settings
from django.db import models


class ClipIndex(models.Model):
    """One clip's indexing: its state, and why it is not indexed when it is not. Kept with the clip."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be indexed"
        RUNNING = "running", "Being indexed"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Not indexed"
        PURGED = "purged", "Purged with the clip"

    clip = models.OneToOneField("requests_app.Clip", on_delete=models.CASCADE, related_name="detection_index")
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey("registry.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it is not indexed")
    detector = models.CharField(max_length=120, blank=True)
    frames = models.PositiveIntegerField(default=0, help_text="Frames the detector looked at")
    indexed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"index of clip {str(self.clip_id)}: {self.state}"


class Detection(models.Model):
    """One person or vehicle followed across a clip's sampled frames (one track): its best box and attributes."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        VEHICLE = "vehicle", "Vehicle"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clip = models.ForeignKey("requests_app.Clip", on_delete=models.CASCADE, related_name="detections")
    # No index of its own: the three below begin with it, and the planner took a lone one over them (bench).
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.CASCADE, related_name="+", db_index=False)
    camera = models.ForeignKey("registry.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    t_s = models.FloatField(help_text="Seconds into the clip of the frame shown (the best box)")
    first_s = models.FloatField()
    last_s = models.FloatField()
    seen_at = models.DateTimeField(null=True, blank=True, help_text="The clip's recording time plus t_s, if known")
    # The best box, as fractions of the frame (0..1), so a thumbnail can be cut from any rendition.
    x = models.FloatField()
    y = models.FloatField()
    w = models.FloatField()
    h = models.FloatField()
    score = models.FloatField(default=0)
    upper_colour = models.CharField(max_length=12, blank=True)
    lower_colour = models.CharField(max_length=12, blank=True)
    hat = models.BooleanField(default=False)
    hat_colour = models.CharField(max_length=12, blank=True)
    bag = models.BooleanField(default=False)
    vehicle_type = models.CharField(max_length=12, blank=True)
    vehicle_colour = models.CharField(max_length=12, blank=True)
    direction = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["incident", "seen_at", "t_s"]
        indexes = [models.Index(fields=["incident", "kind", "upper_colour"], name="detection_case_upper"),
                   models.Index(fields=["incident", "kind", "hat_colour"], name="detection_case_hat"),
                   models.Index(fields=["incident", "kind", "vehicle_colour"], name="detection_case_vehicle")]
        permissions = [("search_detections", "Can search a case's clips by object and attribute (never faces)")]

    def __str__(self):
        return f"{self.kind} at {self.t_s:.1f}s"


class LiveWatch(models.Model):
    """'Alert me when a match appears': the attributes looked for on the frames of a case's open live views, until
    `ends_at` or the case closing. It holds no frame: a frame is checked in memory and dropped (detections/live.py)."""

    class State(models.TextChoices):
        ON = "on", "On"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.CASCADE, related_name="+")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500)
    criteria = models.JSONField(help_text="The attributes looked for (as detections.live.WATCHED names them)")
    set_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.ON, db_index=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it is paused or ended")

    class Meta:
        ordering = ["-set_at"]

    def __str__(self):
        return f"watch {self.code} ({self.state})"


class LiveWatchMatch(models.Model):
    """A match shown on a live view: when, where on the picture, on which camera's view. No picture is kept."""

    watch = models.ForeignKey(LiveWatch, on_delete=models.CASCADE, related_name="matches")
    camera = models.ForeignKey("registry.Camera", null=True, on_delete=models.SET_NULL, related_name="+")
    camera_label = models.CharField(max_length=200)
    session_code = models.UUIDField()
    shown_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    seen_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=8, choices=Detection.Kind.choices)
    x = models.FloatField()
    y = models.FloatField()
    w = models.FloatField()
    h = models.FloatField()
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.label} on {self.camera_label}"
