"""Calls for service (dispatch pushes, staff read and promote) and officer positions (vehicle location pushes,
staff read the latest per unit). Reads are recorded in the access ledger: calls carry callers' addresses,
positions where officers are."""

from datetime import UTC

from django.conf import settings
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from api import limits
from api import serializers as s
from api.permissions import actor
from api.views.cameras import _uuid
from api.views.common import Pages
from api.views.incidents import _valid
from audit.actions import Action
from audit.ledger import record
from dispatch import selectors, services
from dispatch.models import CallForService, OfficerPosition

CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="The call's code (UUID)")


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """ISO 8601 allows UTC offsets PostgreSQL refuses (beyond ±15:59: "time zone displacement out of range"): the
    moment is sent to the database in UTC, so any valid time filters instead of failing with a 500."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value is not None else value)


class CallFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=CallForService.Status.choices)
    priority = filters.NumberFilter(min_value=1, max_value=9)
    call_type = filters.CharFilter()
    dispatch_id = filters.CharFilter()
    received_after = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = CallForService
        fields = ["status", "priority", "call_type", "dispatch_id", "received_after"]


@extend_schema(parameters=[CODE])
class CallViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.CallSerializer
    pagination_class = Pages
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = CallFilter
    ordering_fields = ["received_at", "priority"]
    ordering = ["-received_at"]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    scopes = {"list": "dispatch:read", "retrieve": "dispatch:read", "create": "dispatch:write"}
    perms = {"list": ["dispatch.view_callforservice"], "retrieve": ["dispatch.view_callforservice"],
             "promote": ["dispatch.view_callforservice", "requests_app.add_incident"]}

    def get_queryset(self):
        return selectors.calls_all()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = [selectors.call_payload(call) for call in page]
        record(actor=actor(request), action=Action.CALLS_VIEWED, target_type="call", results=len(data), via="api")
        return self.get_paginated_response(s.CallSerializer(data, many=True).data)

    def _call(self, code) -> CallForService:
        call = self.get_queryset().filter(code=_uuid(code)).first()
        if call is None:
            raise NotFound("No call with that code.")
        return call

    def retrieve(self, request, code=None):
        call = self._call(code)
        record(actor=actor(request), action=Action.CALLS_VIEWED, target_type="call", target_code=call.code,
               dispatch_id=call.dispatch_id, via="api")
        return Response(s.CallSerializer(selectors.call_payload(call)).data)

    @extend_schema(request=s.CallInSerializer, responses={
        201: OpenApiResponse(s.CallSerializer, description="A new call"),
        200: OpenApiResponse(s.CallSerializer, description="A call sent before under this dispatch_id, updated")})
    def create(self, request):
        data = _valid(s.CallInSerializer, request)
        call, created = services.call_receive(
            dispatch_id=data["dispatch_id"], call_type=data["call_type"], priority=data["priority"],
            latitude=data["lat"], longitude=data["lng"], address=data["address"], received_at=data["received_at"],
            status=data["status"])
        call = self._call(str(call.code))
        return Response(s.CallSerializer(selectors.call_payload(call)).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.CallPromoteSerializer, responses={201: s.IncidentSerializer})
    @action(detail=True, methods=["post"])
    def promote(self, request, code=None):
        """Opens an incident at the call's place and time; the promoting investigator works it."""
        call = self._call(code)
        data = _valid(s.CallPromoteSerializer, request)
        incident = services.call_promote(call=call, user=request.user, **data)
        return Response(s.IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)




class PositionViewSet(viewsets.GenericViewSet):
    queryset = OfficerPosition.objects.none()  # for the schema; reads go through dispatch.selectors
    serializer_class = s.PositionSerializer
    scopes = {"list": "dispatch:read", "create": "positions:write", "batch": "positions:write"}
    perms = {"list": ["dispatch.view_officerposition"]}

    # On the list alone: declared on the class, the filter reached the reports sent with POST too
    @extend_schema(parameters=[OpenApiParameter("unit", str, description="Only this unit")],
                   responses={200: s.PositionSerializer(many=True)})
    def list(self, request):
        """The newest position of each unit within CONNECT_POSITIONS_KEEP_HOURS."""
        unit = request.query_params.get("unit", "")
        if len(unit) > 32 or "\x00" in unit:
            return Response([])
        positions = selectors.positions_latest(unit=unit)
        record(actor=actor(request), action=Action.POSITIONS_VIEWED, target_type="position", units=len(positions),
               via="api")
        return Response(s.PositionSerializer(positions, many=True).data)

    @extend_schema(request=s.PositionInSerializer,
                   responses={202: OpenApiResponse(s.AcceptedSerializer, description="Stored; on the map next tick")})
    def create(self, request):
        data = _valid(s.PositionInSerializer, request)
        _limit(request, data["unit"])
        services.position_record(unit=data["unit"], latitude=data["lat"], longitude=data["lng"],
                                 heading_deg=data["heading"], speed_kmh=data["speed"], recorded_at=data["at"])
        return Response({"unit": data["unit"], "at": data["at"]}, status=status.HTTP_202_ACCEPTED)


    @extend_schema(request=s.PositionBatchInSerializer,
                   responses={202: OpenApiResponse(s.BatchAcceptedSerializer,
                                                   description="All stored; on the map next tick")})
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Many units' reports in one request, as a vehicle-location gateway sends them: all or none."""
        data = _valid(s.PositionBatchInSerializer, request)
        _limit(request, *{p["unit"] for p in data["positions"]})
        services.positions_record(positions=[
            {"unit": p["unit"], "latitude": p["lat"], "longitude": p["lng"], "heading_deg": p["heading"],
             "speed_kmh": p["speed"], "recorded_at": p["at"]} for p in data["positions"]])
        return Response({"accepted": len(data["positions"])}, status=status.HTTP_202_ACCEPTED)


def _limit(request, *units: str) -> None:
    """A unit reporting faster than CONNECT_POSITIONS_PER_UNIT_PER_MINUTE is a stuck or hostile sender."""
    limit = settings.POSITIONS_PER_UNIT_PER_MINUTE
    token = getattr(request.auth, "pk", "")
    over = limits.over_many("positions", [f"{token}:{unit}" for unit in units], limit=limit)
    if over:
        names = ", ".join(sorted(value.split(":", 1)[1] for value in over)[:10])
        raise Throttled(detail=f"Units sent more than {limit} positions this minute: {names}. Send at most one "
                               "every second or two.")
