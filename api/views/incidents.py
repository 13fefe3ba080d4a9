"""Incidents, footage requests and clips: staff only (a session), per case through guardian object permissions
(requests_app.selectors). Clip downloads go through the audited evidence path, never through the API."""

from django.contrib.gis.geos import Point
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from api import serializers as s
from api.views.cameras import _uuid
from api.views.common import Pages
from audit.actions import Action
from audit.ledger import entry, record_many
from registry.selectors import in_service_area
from requests_app import selectors, services
from requests_app.models import Clip, FootageRequest, Incident

CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="The object's code (UUID)")


class CodeLookup:
    """Objects by their UUID code; one the user may not see is indistinguishable from none (404)."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    not_found = "No such object."

    def get_object(self):
        obj = self.filter_queryset(self.get_queryset()).filter(code=_uuid(self.kwargs["code"])).first()
        if obj is None:
            raise NotFound(self.not_found)
        self.check_object_permissions(self.request, obj)
        return obj


class IncidentFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Incident.Status.choices)
    offense_type = filters.CharFilter()
    case_number = filters.CharFilter()

    class Meta:
        model = Incident
        fields = ["status", "offense_type", "case_number"]


@extend_schema(parameters=[CODE])
class IncidentViewSet(CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.IncidentSerializer
    pagination_class = Pages
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = IncidentFilter
    ordering_fields = ["created_at", "case_number", "starts_at"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    not_found = "No incident with that code that you may see."
    perms = {"list": ["requests_app.view_incident"], "retrieve": ["requests_app.view_incident"],
             "create": ["requests_app.add_incident"], "partial_update": ["requests_app.change_incident"],
             "close": ["requests_app.change_incident"]}

    def get_queryset(self):
        return selectors.incidents_visible_to(user=self.request.user)

    def _workable(self) -> Incident:
        incident = self.get_object()
        if not selectors.can_work_incident(self.request.user, incident):
            raise PermissionDenied("Only an open case you work on can be changed.")
        return incident

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentSerializer})
    def create(self, request):
        data = _valid(s.IncidentCreateSerializer, request)
        lat, lng = data.pop("lat"), data.pop("lng")
        if not in_service_area(latitude=lat, longitude=lng):
            raise ValidationError({"lat": ["This point is outside the agency's service area."]})
        incident = services.incident_create(user=request.user, location=Point(lng, lat, srid=4326), **data)
        return Response(s.IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses={200: s.IncidentSerializer})
    def partial_update(self, request, code=None):
        incident = self._workable()
        data = _valid(s.IncidentUpdateSerializer, request)
        incident = services.incident_update(incident=incident, user=request.user, **data)
        return Response(s.IncidentSerializer(incident).data)

    @extend_schema(request=None, responses={200: s.IncidentSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, code=None):
        incident = self._workable()
        services.incident_close(incident=incident, user=request.user)
        incident.refresh_from_db()
        return Response(s.IncidentSerializer(incident).data)


def _valid(serializer_class, request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"detail": "Send a JSON object."})
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CaseReads(CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Paged, filtered, ordered reads of a case's objects (those of the cases the user may see), each read
    recorded in the access ledger: `list_action` for a page's query, `detail_action` for each object shown."""

    pagination_class = Pages
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    model = None
    list_action = detail_action = target_type = ""

    def get_queryset(self):
        visible = selectors.incidents_visible_to(user=self.request.user).values("id")
        return self.model.objects.filter(incident_id__in=visible).select_related("incident")

    def ledger_detail(self, obj) -> dict:
        return {}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        # The query, and each object shown as if it had been read alone: its owner sees it in their history.
        record_many([entry(actor=request.user, action=self.list_action, target_type=self.target_type, via="api",
                           incident_code=request.query_params.get("incident", "")[:36], results=len(page)),
                     *(self._read_entry(obj, listed=True) for obj in page)])
        return response

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        record_many([self._read_entry(obj)])
        return Response(self.get_serializer(obj).data)

    def _read_entry(self, obj, **detail) -> dict:
        return entry(actor=self.request.user, action=self.detail_action, target_type=self.target_type,
                     target_code=obj.code, incident_code=obj.incident.code, case_number=obj.incident.case_number,
                     via="api", **self.ledger_detail(obj), **detail)


class ByIncident(filters.FilterSet):
    incident = filters.UUIDFilter(field_name="incident__code", help_text="The incident's code")


class FootageRequestFilter(ByIncident):
    # On what police are shown (a decline is "sent"/"opened", then "no_clip"), never on the real state.
    state = filters.ChoiceFilter(field_name="police_state", choices=FootageRequest.PoliceView.choices)

    class Meta:
        model = FootageRequest
        fields = ["incident"]


class PoliceStateOrdering(OrderingFilter):
    """`ordering=state` orders by what police are shown: by the real state, declines would sort apart."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view) or []
        return [field.replace("state", "police_state") if field.lstrip("-") == "state" else field
                for field in ordering]


@extend_schema(parameters=[CODE])
class FootageRequestViewSet(CaseReads):
    """Requests carry the camera's label, which often names its owner: reads are recorded in the ledger."""

    model = FootageRequest
    list_action, detail_action, target_type = Action.REQUESTS_VIEWED, Action.REQUESTS_LISTED, "footage_request"
    serializer_class = s.FootageRequestSerializer
    filterset_class = FootageRequestFilter
    filter_backends = [filters.DjangoFilterBackend, PoliceStateOrdering]
    ordering_fields = ["created_at", "state", "sent_at"]
    ordering = ["created_at"]
    not_found = "No footage request with that code that you may see."
    perms = {"list": ["requests_app.view_footagerequest"], "retrieve": ["requests_app.view_footagerequest"],
             "create": ["requests_app.view_footagerequest", "requests_app.view_incident"]}

    def get_queryset(self):
        return selectors.requests_for_police(super().get_queryset().select_related("camera__owner"))

    def ledger_detail(self, obj) -> dict:
        camera = obj.camera if obj.camera_id else None
        return {"camera_code": camera.code if camera else "", "owner_code": camera.owner.code if camera else ""}

    @extend_schema(request=s.FootageRequestCreateSerializer, responses={201: s.FootageBatchSerializer})
    def create(self, request):
        data = _valid(s.FootageRequestCreateSerializer, request)
        incident = selectors.incidents_visible_to(user=request.user).filter(code=data["incident"]).first()
        if incident is None or not selectors.can_work_incident(request.user, incident):
            raise NotFound("No open case of yours with that code.")
        batch = services.footage_requests_send(incident=incident, camera_codes=[str(c) for c in data["cameras"]],
                                               user=request.user)
        requests = list(batch.requests.select_related("incident", "camera"))
        body = {"queued": len(requests), "skipped": len(set(data["cameras"])) - len(requests),
                "case_number": incident.case_number, "requests": requests}
        return Response(s.FootageBatchSerializer(body).data, status=status.HTTP_201_CREATED)


class ClipFilter(ByIncident):
    class Meta:
        model = Clip
        fields = ["incident", "legal_hold"]


@extend_schema(parameters=[CODE])
class ClipViewSet(CaseReads):
    """Evidence metadata; reading it is recorded. The file itself: `download_url`, the audited evidence path."""

    model = Clip
    list_action, detail_action, target_type = Action.CLIPS_LISTED, Action.CLIP_METADATA_VIEWED, "clip"
    serializer_class = s.ClipSerializer
    filterset_class = ClipFilter
    ordering_fields = ["uploaded_at", "size"]
    ordering = ["uploaded_at"]
    not_found = "No clip with that code that you may see."
    perms = {"list": ["requests_app.view_clip"], "retrieve": ["requests_app.view_clip"]}

    def get_queryset(self):
        return super().get_queryset().select_related("request__camera__owner")

    def ledger_detail(self, obj) -> dict:
        # The camera and its owner, as the evidence path records them: the owner sees this read in their history.
        camera = obj.request.camera if obj.request_id else None
        return {"sha256": obj.sha256, "camera_code": camera.code if camera else "",
                "owner_code": camera.owner.code if camera else ""}
