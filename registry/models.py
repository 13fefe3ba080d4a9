"""Owners and their cameras. Fields, constraints and cheap predicates only; workflows live in services."""

import uuid

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Owner(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        BUSINESS = "business", _("Business")
        AGENCY = "agency", _("Agency (police or city)")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Person or organisation")
    email = models.EmailField(db_index=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=300, blank=True)
    terms_version = models.CharField(max_length=32, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="When the owner confirmed by email")
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    daily_digest = models.BooleanField(default=False, help_text="Email me each day what happened with my cameras")
    # The language of every mail to this owner: the one they registered in, changeable in the portal. No choices
    # here (the portal's form offers settings.LANGUAGES), so adding a language needs no migration.
    language = models.CharField(max_length=8, default="en")

    class Meta:
        ordering = ["-created_at"]
        # and trigram indexes behind the admin's search (name, email, phone, address, code): migration 0008
        indexes = [models.Index(fields=["created_at"], name="owner_created_at")]  # serves the ordering
        permissions = [("import_agency_cameras", "Can import agency cameras from CSV or GeoJSON"),
                       ("list_owners", "Can list and search every owner's contact details")]

    def __str__(self):
        # No personal data: this string lands in admin logs and messages.
        return f"{self.get_kind_display()} owner {str(self.code)[:8]}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Camera(models.Model):
    class Placement(models.TextChoices):
        OUTDOOR = "outdoor", _("Outdoor")
        INDOOR = "indoor", _("Indoor")

    class Level(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        INTEGRATED = "integrated", _("Integrated (live sharing)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending verification")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        REMOVED = "removed", _("Removed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="cameras")
    label = models.CharField(max_length=120, help_text="For example 'Front porch' or 'Parking lot east'")
    location = models.PointField(geography=True, srid=4326, spatial_index=True)
    address = models.CharField(max_length=300, blank=True)
    placement = models.CharField(max_length=8, choices=Placement.choices, default=Placement.OUTDOOR)
    direction_deg = models.PositiveSmallIntegerField(help_text="Compass direction the camera faces, 0 = north")
    field_of_view_deg = models.PositiveSmallIntegerField(default=90)
    range_m = models.PositiveSmallIntegerField(default=30, help_text="How far the camera sees, in metres")
    records = models.BooleanField(default=True, help_text="Does it keep recordings?")
    retention_days = models.PositiveSmallIntegerField(default=7, help_text="Days the device keeps footage")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.REGISTERED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    faces_public = models.BooleanField(
        default=False,
        help_text="Owner attests the camera faces public space and not a neighbour's private property",
    )
    verified = models.BooleanField(default=False, help_text="Staff have checked this camera")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The yearly re-confirmation (registry/reconfirmation.py): when the owner last said the camera still exists and
    # points where it did (None: never since it was registered, so created_at counts), and where the current cycle
    # stands. All three cycle fields are None outside a cycle; confirming clears them.
    reconfirmed_at = models.DateTimeField(null=True, blank=True)
    reconfirm_asked_at = models.DateTimeField(null=True, blank=True)
    reconfirm_reminded_at = models.DateTimeField(null=True, blank=True)
    reconfirm_paused_at = models.DateTimeField(null=True, blank=True, help_text="Paused because never re-confirmed")

    class Meta:
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(condition=Q(direction_deg__lte=359), name="camera_direction_0_359"),
            models.CheckConstraint(
                condition=Q(field_of_view_deg__gte=1, field_of_view_deg__lte=360), name="camera_fov_1_360"
            ),
            models.CheckConstraint(condition=Q(range_m__gte=1), name="camera_range_positive"),
            # Outdoor cameras carry the public-space attestation; an indoor camera can never claim it.
            models.CheckConstraint(
                condition=Q(placement="outdoor", faces_public=True) | Q(placement="indoor", faces_public=False),
                name="camera_attestation_matches_placement",
            ),
            models.CheckConstraint(
                condition=~Q(level="integrated") | Q(placement="outdoor"), name="camera_indoor_never_integrated"
            ),
        ]
        # and trigram indexes behind the admin's search (label, address, code): migration 0008
        indexes = [models.Index(fields=["status", "level"]),
                   models.Index(fields=["label"], name="camera_label")]  # serves the ordering

    def __str__(self):
        return self.label

    @property
    def awaits_reconfirmation(self) -> bool:
        return self.reconfirm_asked_at is not None

    @property
    def latitude(self) -> float:
        return self.location.y

    @property
    def longitude(self) -> float:
        return self.location.x


class OwnerLink(models.Model):
    """The stored nonce behind an emailed link: makes links single-use and revocable."""

    class Purpose(models.TextChoices):
        CONFIRM = "confirm", "Confirm registration"
        SIGN_IN = "sign_in", "Sign in to the owner portal"
        RECONFIRM = "reconfirm", "Confirm the cameras still exist (yearly)"

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    nonce = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.get_purpose_display()} link"


class DeletionRecord(models.Model):
    """What remains after an owner deletes: that a deletion happened, never who."""

    class Scope(models.TextChoices):
        CAMERA = "camera", "One camera"
        OWNER = "owner", "Owner and all cameras"
        UNCONFIRMED = "unconfirmed", "Unconfirmed registration purged"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    owner_kind = models.CharField(max_length=16, choices=Owner.Kind.choices)
    cameras = models.PositiveIntegerField()
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-deleted_at"]
        indexes = [models.Index(fields=["deleted_at"], name="deletion_record_deleted_at")]  # serves the ordering

    def __str__(self):
        return f"{self.get_scope_display()} deleted {self.deleted_at:%Y-%m-%d}"


class CameraCell(models.Model):
    """How many staff-visible cameras lie in one square of the map at one zoom, by owner kind and camera level.

    The staff map's true counts at every zoom without reading a million cameras per request: PostgreSQL keeps these
    rows by statement triggers on cameras and owners (migration 0007), so they are always exactly
    selectors.STAFF_VISIBLE_CAMERA grouped by square. A square is a slippy-map tile at `zoom` (the map's zoom plus
    2: four squares a tile side, 64 px). Squares emptied by deletions stay with zero cameras; reads skip them."""

    zoom = models.PositiveSmallIntegerField()
    x = models.IntegerField()
    y = models.IntegerField()
    kind = models.CharField(max_length=16, choices=Owner.Kind.choices)
    level = models.CharField(max_length=16, choices=Camera.Level.choices)
    cameras = models.IntegerField()
    sum_lng = models.FloatField()  # for the cluster's centre: the mean of its cameras' positions
    sum_lat = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zoom", "x", "y", "kind", "level"], name="camera_cell_key")]
