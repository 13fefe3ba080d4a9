"""Serializers: validate input for the other apps' services, shape their rows for output. No workflow here."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dispatch.models import CallForService
from registry.models import Camera, Owner
from requests_app.models import Clip, FootageRequest, Incident
from requests_app.selectors import police_answered_at, police_reminders_sent, police_state

LAT = {"min_value": -90.0, "max_value": 90.0}
LNG = {"min_value": -180.0, "max_value": 180.0}


# --- query parameters ---------------------------------------------------------------------------------

class BBoxQuery(serializers.Serializer):
    bbox = serializers.CharField(required=False, max_length=200,
                                 help_text="west,south,east,north in degrees; the service area if left out")
    kind = serializers.MultipleChoiceField(choices=Owner.Kind.choices, required=False)
    level = serializers.MultipleChoiceField(choices=Camera.Level.choices, required=False)

    def validate_bbox(self, value):
        try:
            west, south, east, north = (float(part) for part in value.split(","))
        except ValueError:
            raise serializers.ValidationError("bbox must be west,south,east,north in degrees.") from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise serializers.ValidationError("bbox is not a valid box: west < east and south < north, in degrees.")
        return west, south, east, north


class NearbyQuery(serializers.Serializer):
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)
    radius = serializers.IntegerField(min_value=1, default=300, help_text="metres, at most CONNECT_NEARBY_MAX_RADIUS_M")
    case = serializers.CharField(required=False, max_length=32, default="",
                                 help_text="The case the search is for (recorded in the access ledger)")

    def validate_radius(self, value):
        if value > settings.NEARBY_MAX_RADIUS_M:
            raise serializers.ValidationError(f"radius must be between 1 and {settings.NEARBY_MAX_RADIUS_M} metres.")
        return value


# --- GeoJSON (cameras) --------------------------------------------------------------------------------

POINT_SCHEMA = {"type": "object", "required": ["type", "coordinates"], "properties": {
    "type": {"type": "string", "enum": ["Point"]},
    "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}
CAMERA_PROPERTIES = {
    "code": {"type": "string", "format": "uuid"}, "label": {"type": "string"},
    "kind": {"type": "string", "enum": list(Owner.Kind.values)},
    "level": {"type": "string", "enum": list(Camera.Level.values)},
    "dir": {"type": "integer"}, "fov": {"type": "integer"}, "range": {"type": "integer"},
}
NEARBY_PROPERTIES = {
    "code": {"type": "string", "format": "uuid"}, "label": {"type": "string"},
    "kind": {"type": "string", "enum": list(Owner.Kind.values)},
    "level": {"type": "string", "enum": list(Camera.Level.values)},
    "distance_m": {"type": "number"}, "covers": {"type": "boolean", "description": "its view cone covers the point"},
    "address": {"type": "string"},
}


def feature_collection(properties: dict, extra: dict | None = None) -> dict:
    feature = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "geometry": POINT_SCHEMA,
        "properties": {"type": "object", "properties": properties, "required": list(properties)}}}
    return {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "truncated": {"type": "boolean", "description": "more cameras matched than were returned"},
        **(extra or {}), "features": {"type": "array", "items": feature}}}


CAMERA_DETAIL_PROPERTIES = {
    **CAMERA_PROPERTIES, "address": {"type": "string"}, "placement": {"type": "string"},
    "records": {"type": "boolean"}, "retention_days": {"type": "integer"}, "status": {"type": "string"},
    "verified": {"type": "boolean"},
}
CAMERA_FEATURE_SCHEMA = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"type": "string", "enum": ["Feature"]}, "geometry": POINT_SCHEMA,
    "properties": {"type": "object", "properties": CAMERA_DETAIL_PROPERTIES,
                   "required": list(CAMERA_DETAIL_PROPERTIES)}}}


def camera_feature(camera: Camera) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [camera.location.x, camera.location.y]},
            "properties": {"code": str(camera.code), "label": camera.label, "kind": camera.owner.kind,
                           "level": camera.level, "dir": camera.direction_deg, "fov": camera.field_of_view_deg,
                           "range": camera.range_m, "address": camera.address, "placement": camera.placement,
                           "records": camera.records, "retention_days": camera.retention_days,
                           "status": camera.status, "verified": camera.verified}}


# --- incidents, requests, clips ----------------------------------------------------------------------

class IncidentSerializer(serializers.ModelSerializer):
    lat = serializers.FloatField(source="location.y", read_only=True)
    lng = serializers.FloatField(source="location.x", read_only=True)

    class Meta:
        model = Incident
        fields = ["code", "case_number", "offense_type", "lat", "lng", "address", "starts_at", "ends_at", "radius_m",
                  "owner_summary", "internal_notes", "status", "closed_at", "created_at"]
        read_only_fields = fields


class IncidentCreateSerializer(serializers.Serializer):
    case_number = serializers.CharField(max_length=32)
    offense_type = serializers.CharField(max_length=80)
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)
    address = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    radius_m = serializers.IntegerField(min_value=10, max_value=100_000, default=300)
    owner_summary = serializers.CharField(max_length=2000)
    internal_notes = serializers.CharField(max_length=10_000, required=False, default="", allow_blank=True)


class IncidentUpdateSerializer(serializers.Serializer):
    offense_type = serializers.CharField(max_length=80, required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    radius_m = serializers.IntegerField(min_value=10, max_value=100_000, required=False)
    owner_summary = serializers.CharField(max_length=2000, required=False)
    internal_notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class FootageRequestSerializer(serializers.ModelSerializer):
    """A request as police may see it (requests_app.selectors.police_state): a decline is never shown."""

    incident = serializers.SlugRelatedField(slug_field="code", read_only=True)
    case_number = serializers.CharField(source="incident.case_number", read_only=True)
    camera = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    answered_at = serializers.SerializerMethodField()
    reminders_sent = serializers.SerializerMethodField()

    class Meta:
        model = FootageRequest
        fields = ["code", "incident", "case_number", "camera", "camera_label", "state", "sent_at", "opened_at",
                  "answered_at", "expires_at", "reminders_sent", "failure_reason", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_camera(self, obj):
        return str(obj.camera.code) if obj.camera_id else None

    @extend_schema_field({"type": "string", "enum": FootageRequest.PoliceView.values,
                          "description": "Declined and unanswered requests look alike: waiting, then no_clip"})
    def get_state(self, obj) -> str:
        return str(police_state(obj))

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_answered_at(self, obj):
        answered_at = police_answered_at(obj)
        return serializers.DateTimeField().to_representation(answered_at) if answered_at else None

    def get_reminders_sent(self, obj) -> int:
        return police_reminders_sent(obj)


class FootageRequestCreateSerializer(serializers.Serializer):
    incident = serializers.UUIDField(help_text="The incident's code")
    cameras = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500,
                                    help_text="Codes of the cameras to ask; only active ones within the "
                                              "incident's radius get a request, never twice")


class FootageBatchSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    skipped = serializers.IntegerField()
    case_number = serializers.CharField()
    requests = FootageRequestSerializer(many=True)


class ClipSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="code", read_only=True)
    request = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    purged = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Clip
        fields = ["code", "incident", "request", "original_name", "media_format", "size", "sha256", "duration_s",
                  "width", "height", "recorded_at", "uploaded_at", "legal_hold", "integrity_failed_at", "purged",
                  "download_url"]
        read_only_fields = fields

    def get_purged(self, obj) -> bool:
        return obj.purged_at is not None

    @extend_schema_field({"type": "string", "nullable": True,
                          "description": "The audited evidence download (staff session); null once purged"})
    def get_download_url(self, obj):
        if obj.purged_at is not None:
            return None
        return reverse("requests_app:clip_download", args=[obj.code])


# --- dispatch ----------------------------------------------------------------------------------------

class NearCameraSerializer(serializers.Serializer):
    code = serializers.UUIDField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=Owner.Kind.choices)
    level = serializers.ChoiceField(choices=Camera.Level.choices,
                                    help_text="'integrated' cameras can be viewed live under the live-viewing rules")
    distance_m = serializers.FloatField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class CallSerializer(serializers.Serializer):
    """Output: the same shape the map's websocket sends."""

    code = serializers.UUIDField()
    dispatch_id = serializers.CharField()
    call_type = serializers.CharField()
    priority = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CallForService.Status.choices)
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    address = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()
    incident = serializers.CharField(allow_null=True, help_text="The case number it was promoted to")
    cameras = NearCameraSerializer(many=True, help_text="Active cameras nearest the call, nearest first")


class CallInSerializer(serializers.Serializer):
    dispatch_id = serializers.RegexField(r"^[A-Za-z0-9._:/-]{1,64}$", max_length=64,
                                         help_text="The call's id in the dispatch system; sending it again updates "
                                                   "the call")
    call_type = serializers.CharField(max_length=80)
    priority = serializers.IntegerField(min_value=1, max_value=9)
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)
    address = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    received_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=CallForService.Status.choices, default=CallForService.Status.PENDING)


class CallPromoteSerializer(serializers.Serializer):
    case_number = serializers.CharField(max_length=32)
    offense_type = serializers.CharField(max_length=80)
    owner_summary = serializers.CharField(max_length=2000)
    radius_m = serializers.IntegerField(min_value=10, max_value=100_000, default=300)
    starts_at = serializers.DateTimeField(required=False, help_text="Default: an hour before the call")
    ends_at = serializers.DateTimeField(required=False, help_text="Default: an hour after the call")
    internal_notes = serializers.CharField(max_length=10_000, required=False, default="", allow_blank=True)


class PositionSerializer(serializers.Serializer):
    unit = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    heading = serializers.IntegerField(allow_null=True)
    speed = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class PositionInSerializer(serializers.Serializer):
    unit = serializers.RegexField(r"^[A-Za-z0-9._-]{1,32}$", max_length=32, help_text="The unit's call sign")
    lat = serializers.FloatField(**LAT)
    lng = serializers.FloatField(**LNG)
    heading = serializers.IntegerField(min_value=0, max_value=359, required=False, allow_null=True, default=None)
    speed = serializers.IntegerField(min_value=0, max_value=400, required=False, allow_null=True, default=None,
                                     help_text="km/h")
    at = serializers.DateTimeField(help_text="When the fix was taken")


POSITIONS_BATCH_MAX = 500


class PositionBatchInSerializer(serializers.Serializer):
    positions = PositionInSerializer(many=True, min_length=1, max_length=POSITIONS_BATCH_MAX,
                                     help_text=f"1 to {POSITIONS_BATCH_MAX} reports, any units")


class BatchAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()


class AcceptedSerializer(serializers.Serializer):
    unit = serializers.CharField()
    at = serializers.DateTimeField()


class LiveSessionSerializer(serializers.Serializer):
    code = serializers.UUIDField()
    camera = serializers.UUIDField(source="camera.code")
    camera_label = serializers.CharField(source="camera.label")
    analyst = serializers.CharField(source="analyst.username")
    case_number = serializers.CharField(source="incident.case_number", allow_null=True, default=None)
    reason = serializers.CharField()
    override_reason = serializers.CharField()
    started_at = serializers.DateTimeField()
    ends_by = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()
    minutes = serializers.FloatField(allow_null=True)
