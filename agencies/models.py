"""Outside agencies (other police departments, prosecutors, federal agencies), the people tied to them, their
requests with the legal basis and warrant each names, the legal reviewer's decision, prosecutors' case packets
and the owner notices that follow a release."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class OutsideAgency(models.Model):
    class Type(models.TextChoices):
        POLICE = "police", _("Police department")
        PROSECUTOR = "prosecutor", _("Prosecutor's office")
        FEDERAL = "federal", _("Federal agency")
        OTHER = "other", _("Other")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=12, choices=Type.choices)
    jurisdiction_state = models.CharField(max_length=2, help_text="Two-letter state code, e.g. NC")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "outside agencies"

    def __str__(self):
        return f"{self.name} ({self.get_type_display()}, {self.jurisdiction_state})"


class AgencyMember(models.Model):
    """A sign-in account of an agency's person: it reaches the agency's own requests and nothing else."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outside_agency")
    agency = models.ForeignKey(OutsideAgency, on_delete=models.PROTECT, related_name="members")
    added_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} ({self.agency.name})"


class RequestKind(models.TextChoices):
    CASE_FOOTAGE = "case_footage", "Footage of a case"
    CAMERAS_NEAR = "cameras_near", "Cameras near a place and time"
    LIVE_VIEW = "live_view", "A live view"


class LegalBasis(models.TextChoices):
    WARRANT = "warrant", _("Search warrant")
    COURT_ORDER = "court_order", _("Court order")
    SUBPOENA = "subpoena", _("Subpoena")
    CONSENT = "consent", _("Owner's consent")
    EXIGENT = "exigent", _("Exigent circumstances")


class Warrant(models.Model):
    """The warrant or court order an agency uploaded, sealed like evidence (common/sealed.py), with what it says.
    Its scope is also structured (kinds, case, time window) so a request it does not cover can be refused."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    court = models.CharField(max_length=200)
    number = models.CharField(max_length=80)
    judge = models.CharField(max_length=200)
    signed_on = models.DateField()
    scope = models.TextField(help_text="What the warrant allows, in its own words")
    scope_kinds = models.JSONField(default=list, help_text="The kinds of request it covers")
    scope_case_number = models.CharField(max_length=32, blank=True, help_text="The case it names, if any")
    scope_starts_at = models.DateTimeField(null=True, blank=True)
    scope_ends_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    notice_delayed_until = models.DateField(
        null=True, blank=True, help_text="The agency says the court order delays telling the owners until this date; "
                                         "only the legal reviewer's confirmation (AgencyRequest) delays anything")
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=80, unique=True)
    master_key_id = models.CharField(max_length=16)
    wrapped_key = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.court} no. {self.number}"


class AgencyRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the legal reviewer"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        REVOKED = "revoked", "Revoked"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(OutsideAgency, on_delete=models.PROTECT, related_name="requests")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    legal_basis = models.CharField(max_length=16, choices=LegalBasis.choices)
    purpose = models.TextField()
    case_number = models.CharField(max_length=32, blank=True, help_text="The program's case, for case footage")
    incident = models.ForeignKey("requests_app.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    location = models.PointField(geography=True, srid=4326, null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    warrant = models.OneToOneField(Warrant, null=True, blank=True, on_delete=models.PROTECT, related_name="request")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # The approved scope: only this is ever reachable, and only until approved_until.
    approved_clips = models.ManyToManyField("requests_app.Clip", blank=True, related_name="+")
    approved_radius_m = models.PositiveIntegerField(null=True, blank=True)
    # The cameras within the approved radius when the reviewer approved: the scope never grows with cameras
    # registered later (a camera withdrawn or paused since drops out of what the agency sees).
    approved_cameras = models.ManyToManyField("registry.Camera", blank=True, related_name="+")
    approved_until = models.DateTimeField(null=True, blank=True)
    # Set only by the legal reviewer, after reading the order, and never past the date the warrant gives.
    notice_delayed_until = models.DateField(null=True, blank=True,
                                            help_text="The legal reviewer confirmed the court delays owner notice "
                                                      "until this date")

    class Meta:
        ordering = ["-filed_at"]
        permissions = [("review_agencyrequest", "Can approve or refuse outside agencies' requests")]

    def __str__(self):
        return f"{self.agency.name}: {self.get_kind_display()} ({self.get_state_display()})"


class CasePacket(models.Model):
    """A prosecutor's download of an approved request's clips with their custody reports and hashes, by an
    expiring, revocable link; every download counted and recorded."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(AgencyRequest, on_delete=models.PROTECT, related_name="packets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]


class OwnerNotice(models.Model):
    """An owner is told their footage went to an outside agency: on `due_on`, later than the release when a court
    order delays notice."""

    request = models.ForeignKey(AgencyRequest, on_delete=models.CASCADE, related_name="owner_notices")
    owner = models.ForeignKey("registry.Owner", on_delete=models.CASCADE, related_name="+")
    camera_codes = models.JSONField(default=list)
    due_on = models.DateField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "owner"], name="agency_notice_once_per_owner")]


class UploaderNotice(models.Model):
    """A member of the public whose clip (an answer to a public request) went to an outside agency is told, as an
    owner is: on `due_on`, later when a court order delays notice. The answer is named by its code only: its
    address stays with public_requests."""

    request = models.ForeignKey(AgencyRequest, on_delete=models.CASCADE, related_name="uploader_notices")
    answer_code = models.UUIDField()
    clip_codes = models.JSONField(default=list)
    due_on = models.DateField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "answer_code"],
                                               name="agency_uploader_notice_once")]
