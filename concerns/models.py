"""A neighbour's concern ("Is a camera watching my home?") and the owners asked about it. Fields and states only."""

import uuid

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class Concern(models.Model):
    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Waiting for the neighbour to confirm their email"
        OPEN = "open", "Confirmed: waiting for staff"
        ASKED = "asked", "Owners asked: waiting for their answers"
        CLOSED = "closed", "Outcome sent to the neighbour"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField()
    address = models.CharField(max_length=300)
    location = models.PointField(geography=True, srid=4326)
    text = models.TextField(max_length=2000)
    language = models.CharField(max_length=8, default="en")  # of the neighbour's emails
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNCONFIRMED, db_index=True)
    confirm_nonce = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    outcome_sent_at = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("handle_concern", "Can read neighbours' concerns, see the cameras that cover them and ask "
                                          "their owners")]

    def __str__(self):
        return f"concern {str(self.code)[:8]}"  # no address or email: this lands in logs


class OwnerAsk(models.Model):
    """One camera's owner asked about one concern, and their answer."""

    class Answer(models.TextChoices):
        PENDING = "pending", _("Not answered yet")
        REAIMED = "reaimed", _("I re-aimed the camera so it no longer sees that home")
        MASKED = "masked", _("I added a privacy mask over that home")
        DECLINED = "declined", _("I leave the camera as it is")
        UNANSWERED = "unanswered", _("Did not answer")  # set when staff close the concern without the answer

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="asks")
    camera = models.ForeignKey("registry.Camera", on_delete=models.CASCADE, related_name="concern_asks")
    answer = models.CharField(max_length=16, choices=Answer.choices, default=Answer.PENDING)
    link_nonce = models.CharField(max_length=64, unique=True)
    link_used_at = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [models.UniqueConstraint(fields=["concern", "camera"], name="concern_ask_once_per_camera")]

    def __str__(self):
        return f"ask {str(self.code)[:8]}"

    @property
    def is_pending(self) -> bool:
        return self.answer == self.Answer.PENDING
