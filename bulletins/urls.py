from django.urls import path

from bulletins import views

app_name = "bulletins"

urlpatterns = [
    path("patrol/", views.patrol, name="patrol"),
    path("patrol/manifest.webmanifest", views.manifest, name="manifest"),
    path("patrol/sw.js", views.service_worker, name="service_worker"),
    path("patrol/push/", views.push_subscription, name="push_subscription"),
    path("bulletins/new/", views.compose, name="compose"),
    path("bulletins/new/media/", views.compose_media, name="compose_media"),
    path("bulletins/new/still/<uuid:code>.jpg", views.still_thumb, name="still_thumb"),
    path("bulletins/<uuid:code>/", views.detail, name="detail"),
    path("bulletins/<uuid:code>/still.jpg", views.media, name="media"),
    path("bulletins/<uuid:code>/clip.mp4", views.media, name="clip"),
    path("bulletins/<uuid:code>/save/", views.save_to_case, name="save_to_case"),
]
