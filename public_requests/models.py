"""Public area requests: police ask everyone near an incident for footage on a public page (`/requests/`), and
anyone, registered or not, answers with clips once they have confirmed an email address."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q


class PublicRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a supervisor's approval"
        PUBLISHED = "published", "Public"
        WITHDRAWN = "withdrawn", "Withdrawn"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey("requests_app.Incident", on_delete=models.PROTECT, related_name="public_requests")
    # The area as the investigator set it (staff only), and as the public page shows it: coarsened to whole cells
    # of a grid (public_requests/area.py), so the page cannot give the exact spot away.
    area = models.PolygonField(srid=4326, help_text="Draw the area, or leave it empty to use the incident's radius.",
                               null=True, blank=True)
    public_area = models.PolygonField(srid=4326, editable=False)
    starts_at = models.DateTimeField("footage from")
    ends_at = models.DateTimeField("footage until")
    answers_until = models.DateTimeField(help_text="The request stops taking answers at this time.")
    summary = models.TextField(help_text="What the public is told, for example 'A car was broken into on this "
                                         "block'. Never names, suspects, victims or an exact address.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                              name="public_request_window_order")]
        permissions = [("approve_publicrequest", "Can approve a public request so that it is published")]

    def __str__(self):
        return f"public request {str(self.code)[:8]} for {self.incident.case_number}"


class PublicAnswer(models.Model):
    """One person's answer to a public request: their email (for the receipt), confirmed by a link before they may
    upload, so nothing from an unconfirmed address is ever stored or shown to police."""

    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Email not confirmed"
        CONFIRMED = "confirmed", "Email confirmed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(PublicRequest, on_delete=models.PROTECT, related_name="answers")
    email = models.EmailField()
    language = models.CharField(max_length=8, default="en")
    state = models.CharField(max_length=12, choices=State.choices, default=State.UNCONFIRMED, db_index=True)
    confirm_nonce = models.CharField(max_length=64, unique=True, help_text="The confirmation link's, used once")
    access_nonce = models.CharField(max_length=64, unique=True,
                                    help_text="The uploader's own link (uploads, history): kept secret, reusable")
    wants_to_register = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"answer {str(self.code)[:8]} to {self.request}"


class AnswerClip(models.Model):
    """A clip an answer shared (the clip itself is requests_app's, in the incident's evidence)."""

    answer = models.ForeignKey(PublicAnswer, on_delete=models.CASCADE, related_name="answer_clips")
    clip = models.OneToOneField("requests_app.Clip", on_delete=models.PROTECT, related_name="public_answer")
    deletion_receipt_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"clip of {self.answer}"
