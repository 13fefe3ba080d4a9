from django.urls import path

from integration.views import overrides, portal, staff, wall

app_name = "integration"

urlpatterns = [
    path("owner/cameras/<uuid:code>/live/", portal.live, name="portal_live"),
    path("owner/cameras/<uuid:code>/live/status.json", portal.live_status, name="portal_live_status"),
    path("owner/cameras/<uuid:code>/live/stop/", portal.live_stop, name="portal_live_stop"),
    path("owner/cameras/<uuid:code>/live/queue/leave/", portal.live_queue_leave, name="portal_live_queue_leave"),
    path("owner/cameras/<uuid:code>/live/pause/", portal.live_pause, name="portal_live_pause"),
    path("owner/cameras/<uuid:code>/live/token/", portal.connector_token, name="portal_connector_token"),
    path("owner/cameras/<uuid:code>/live/masks/", portal.masks, name="portal_masks"),
    path("owner/cameras/<uuid:code>/live/still.jpg", portal.still, name="portal_still"),
    path("live/cameras/<uuid:code>.json", staff.camera_live_info, name="camera_live_info"),
    path("live/sessions/", staff.session_open, name="session_open"),
    path("live/wall/", wall.wall_page, name="wall"),
    path("live/wall/open/", wall.wall_open, name="wall_open"),
    path("live/wall/order.json", wall.wall_order, name="wall_order"),
    path("live/overrides/", overrides.override_list, name="overrides"),
    path("live/overrides/ask/", overrides.override_ask, name="override_ask"),
    path("live/overrides/<uuid:code>.json", overrides.override_status, name="override_status"),
    path("live/overrides/<uuid:code>/decide/", overrides.override_decide, name="override_decide"),
]
