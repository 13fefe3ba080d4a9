from django.urls import path

from requests_app import resumable_views, views

app_name = "requests_app"

urlpatterns = [
    path("footage/<str:token>/", views.consent, name="consent"),
    path("footage/<str:token>/upload/", views.consent_upload, name="consent_upload"),
    path("footage/<str:token>/upload/stream/", views.consent_upload_stream, name="consent_upload_stream"),
    path("footage/<str:token>/uploads/", resumable_views.consent_uploads, name="consent_uploads"),
    path("footage/<str:token>/uploads/finish/", resumable_views.consent_uploads_finish, name="consent_uploads_finish"),
    path("footage/<str:token>/uploads/<uuid:upload_id>", resumable_views.consent_upload_resumable,
         name="consent_upload_resumable"),
    path("evidence/<uuid:code>/download/", views.clip_download, name="clip_download"),
    path("evidence/<uuid:code>/play/", views.clip_play, name="clip_play"),
    path("requests/incidents.json", views.map_incidents, name="map_incidents"),
    path("requests/incidents/<uuid:code>/send/", views.map_send, name="map_send"),
]
