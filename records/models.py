"""Public-records releases: a closed case's clips redacted for release, the owners told first, and what the records
officer decided. The registry export needs no row: it is built when asked and recorded in the ledger."""

import uuid

from django.conf import settings
from django.db import models


class Release(models.Model):
    """One closed case's clips, prepared for release on a public-records request."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Not decided"
        RELEASE = "release", "Release"
        WITHHOLD = "withhold", "Withhold"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.PROTECT, related_name="releases")
    request_reference = models.CharField(max_length=120, help_text="The public-records request this answers")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    objection_until = models.DateTimeField(help_text="Owners may object until then; nothing is released before")
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.PENDING)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("prepare_release", "Can answer public-records requests (registry export, redacted clips)")]

    def __str__(self):
        return f"release {str(self.code)[:8]} of {self.incident.case_number}"


class Redaction(models.Model):
    """One clip of a release, redacted: privacy masks, detected faces and plates, the officer's own boxes. Only the
    regions are kept (fractions of the frame), never what was in them."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done, to review"
        APPROVED = "approved", "Reviewed and approved"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="redactions")
    clip = models.ForeignKey("requests_app.Clip", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    failure_reason = models.CharField(max_length=300, blank=True)
    added_boxes = models.JSONField(default=list, help_text="The officer's boxes: [[x, y, w, h], ...], fractions")
    whole_frame = models.BooleanField(default=False, help_text="Blur every frame whole")
    keyframes = models.JSONField(default=list, help_text="[{'t': s, 'boxes': [[x, y, w, h, kind], ...]}, ...]")
    runs = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the running job took it")
    # The redacted output: a file of its own, sealed like evidence under its own key.
    output_code = models.UUIDField(null=True, blank=True, help_text="Names the output's file and its shred key")
    stored_name = models.CharField(max_length=80, blank=True)
    master_key_id = models.CharField(max_length=16, blank=True)
    wrapped_key = models.BinaryField(null=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"redaction {str(self.code)[:8]} of clip {str(self.clip.code)[:8]}"


class OwnerNotice(models.Model):
    """An owner told of a release of their clips, and their objection if they made one."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="notices")
    owner = models.ForeignKey("registry.Owner", null=True, on_delete=models.SET_NULL, related_name="+")
    owner_code = models.CharField(max_length=36)
    nonce = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    objected_at = models.DateTimeField(null=True, blank=True)
    objection = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["release", "owner_code"], name="one_notice_per_owner")]

    def __str__(self):
        return f"notice of {self.release} to owner {self.owner_code[:8]}"
