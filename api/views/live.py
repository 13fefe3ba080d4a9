"""Live sessions (read only): who watched which camera live, for which case and why. Staff only; analysts see
their own, those who oversee the program see all (integration.selectors). Listing is recorded."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter

from api import serializers as s
from api.views.common import Pages
from api.views.incidents import CODE, CodeLookup
from audit.actions import Action
from audit.ledger import record
from integration.models import LiveSession
from integration.selectors import sessions_visible_to


class LiveSessionFilter(filters.FilterSet):
    camera = filters.UUIDFilter(field_name="camera__code")
    case_number = filters.CharFilter(field_name="incident__case_number")
    analyst = filters.CharFilter(field_name="analyst__username")
    open = filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = LiveSession
        fields = ["camera", "case_number", "analyst", "open"]


FILTERS = ("camera", "case_number", "analyst", "open", "ordering", "page", "page_size")


@extend_schema(parameters=[CODE])
class LiveSessionViewSet(CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.LiveSessionSerializer
    pagination_class = Pages
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = LiveSessionFilter
    ordering_fields = ["started_at", "ended_at"]
    ordering = ["-started_at"]
    not_found = "No live session with that code that you may see."
    perms = {"list": ["integration.view_livesession"], "retrieve": ["integration.view_livesession"]}

    def get_queryset(self):
        return sessions_visible_to(user=self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        record(actor=request.user, action=Action.LIVE_SESSIONS_VIEWED, target_type="live_session", via="api",
               filters={key: request.query_params[key][:64] for key in FILTERS if key in request.query_params},
               results=len(response.data.get("results", [])))
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        record(actor=request.user, action=Action.LIVE_SESSION_VIEWED, target_type="live_session", via="api",
               target_code=response.data["code"], camera_code=response.data["camera"])
        return response
