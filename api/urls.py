"""/api/v1/ and the OpenAPI schema and docs (served from local assets: drf-spectacular-sidecar)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.views.cameras import CameraViewSet
from api.views.dispatch import CallViewSet, PositionViewSet
from api.views.incidents import ClipViewSet, FootageRequestViewSet, IncidentViewSet
from api.views.live import LiveSessionViewSet
from api.views.transparency import TransparencyView

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cameras", CameraViewSet, basename="camera")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("footage-requests", FootageRequestViewSet, basename="footage-request")
router.register("clips", ClipViewSet, basename="clip")
router.register("calls", CallViewSet, basename="call")
router.register("positions", PositionViewSet, basename="position")
router.register("live-sessions", LiveSessionViewSet, basename="live-session")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/transparency/", TransparencyView.as_view(), name="transparency"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
