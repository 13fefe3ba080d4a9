"""Invitation campaigns: who was invited (by a short code each), and the addresses that asked never to be again.

A recipient's email address is kept only until its mail has gone out: after that the row keeps a hash of it (to
count and to honour an unsubscribe), so the list itself is not kept. Letters keep their address point, which is
the city's public data."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models


class Campaign(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Printed letters"

    class Status(models.TextChoices):
        DRAFT = "draft", "Not sent yet"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # The language of mail and letters whose recipient's own is not known.
    language = models.CharField(max_length=8, default="en")
    # The area invited (drawn or a district), if any: the landing page shows it on the registration map.
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)
    district = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Counters, raised with F() so concurrent visits and registrations do not lose one another.
    skipped_unsubscribed = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    registrations = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_campaigns", "Can create, send and read invitation campaigns")]

    def __str__(self):
        return self.name


class Recipient(models.Model):
    """One invitation: an email or a letter, with the short code its landing link or letter carries."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    short_code = models.CharField(max_length=16, unique=True)
    email = models.CharField(max_length=254, blank=True)  # cleared once the mail has gone out
    email_hash = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=300, blank=True)  # a letter's address point
    location = models.PointField(geography=True, srid=4326, null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    visited_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "sent_at"], name="invitation_recipient_sent")]


class Unsubscribe(models.Model):
    """An address that asked for no more invitations, as its hash (invitations.codes.email_hash): honoured by
    every later campaign, kept forever."""

    email_hash = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(auto_now_add=True)


class LetterPrint(models.Model):
    """A letter campaign's PDF, built by a Celery task (up to CONNECT_INVITE_LETTERS_MAX pages: never in a request)
    and kept sealed like evidence (it holds every address and code of the campaign) until a newer build replaces
    it. Downloading it is what counts as printing, in the ledger."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        BUILDING = "building", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prints")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    pages = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    stored_name = models.CharField(max_length=80, blank=True)
    master_key_id = models.CharField(max_length=16, blank=True)
    wrapped_key = models.BinaryField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
