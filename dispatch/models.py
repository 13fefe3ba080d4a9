"""Calls for service pushed by computer-aided dispatch (CAD) and officer positions pushed by vehicle location
(AVL). Both are short-lived operational data: purged on schedule (`CONNECT_CALLS_KEEP_DAYS`,
`CONNECT_POSITIONS_KEEP_HOURS`)."""

import uuid

from django.contrib.gis.db import models
from django.db.models import Q


class CallForService(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DISPATCHED = "dispatched", "Dispatched"
        EN_ROUTE = "en_route", "En route"
        ON_SCENE = "on_scene", "On scene"
        CLEARED = "cleared", "Cleared"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dispatch_id = models.CharField(max_length=64, unique=True, help_text="The call's number in the dispatch system")
    call_type = models.CharField(max_length=80)
    priority = models.PositiveSmallIntegerField(help_text="1 (most urgent) to 9")
    location = models.PointField(geography=True, srid=4326, spatial_index=True)
    address = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(help_text="When dispatch received the call", db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    incident = models.ForeignKey("requests_app.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="calls", help_text="The incident this call was promoted to")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "call for service"
        verbose_name_plural = "calls for service"
        constraints = [models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=9), name="call_priority_1_9")]

    def __str__(self):
        return f"call {self.dispatch_id} ({self.call_type})"


class OfficerPosition(models.Model):
    """One position report; the map shows the newest `recorded_at` per unit."""

    unit = models.CharField(max_length=32)
    location = models.PointField(geography=True, srid=4326, spatial_index=False)
    heading_deg = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 = north")
    speed_kmh = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(help_text="When the vehicle took the fix")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["unit", "-recorded_at"], name="position_unit_latest"),
                   models.Index(fields=["recorded_at"], name="position_recorded_at")]  # serves the ordering
        constraints = [models.CheckConstraint(condition=Q(heading_deg__lte=359), name="position_heading_0_359")]

    def __str__(self):
        return f"{self.unit} at {self.recorded_at:%H:%M:%S}"
