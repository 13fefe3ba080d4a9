from django.urls import path

from registry.views import portal, registration, staff_map

app_name = "registry"

urlpatterns = [
    path("register/", registration.register, name="register"),
    path("register/sent/", registration.register_sent, name="register_sent"),
    path("register/confirm/<str:token>/", registration.confirm, name="confirm"),
    path("owner/", portal.home, name="portal"),
    path("owner/sign-in/<str:token>/", portal.sign_in, name="portal_sign_in"),
    path("owner/sign-out/", portal.sign_out, name="portal_sign_out"),
    path("owner/reconfirm/", portal.reconfirm, name="portal_reconfirm"),
    path("owner/reconfirm/<str:token>/", portal.reconfirm_link, name="reconfirm"),
    path("owner/details/", portal.details, name="portal_details"),
    path("owner/history/", portal.history, name="portal_history"),
    path("owner/history/receipt/<int:seq>/", portal.history_receipt, name="portal_history_receipt"),
    path("owner/cameras/add/", portal.camera_add, name="portal_camera_add"),
    path("owner/cameras/<uuid:code>/", portal.camera_edit, name="portal_camera_edit"),
    path("owner/cameras/<uuid:code>/pause/", portal.camera_pause, name="portal_camera_pause"),
    path("owner/cameras/<uuid:code>/delete/", portal.camera_delete, name="portal_camera_delete"),
    path("owner/delete/", portal.owner_delete, name="portal_delete"),
    path("map/", staff_map.map_page, name="map"),
    path("map/base.json", staff_map.base_map, name="map_base"),
    path("map/cameras.json", staff_map.cameras_in_view, name="map_cameras"),
    path("map/cameras.geojson", staff_map.cameras_geojson, name="map_geojson"),
    path("map/nearby.json", staff_map.nearby, name="map_nearby"),
]
