from django.urls import path

from public_requests import uploads, views

app_name = "public_requests"

urlpatterns = [
    path("requests/", views.request_list, name="list"),
    path("requests/<uuid:code>/", views.request_detail, name="detail"),
    path("requests/answers/confirm/<str:token>/", views.answer_confirm, name="confirm"),
    path("requests/answers/<str:token>/", views.answer, name="answer"),
    path("requests/answers/<str:token>/uploads/", uploads.uploads_create, name="uploads"),
    path("requests/answers/<str:token>/uploads/finish/", uploads.uploads_finish, name="uploads_finish"),
    path("requests/answers/<str:token>/uploads/<uuid:upload_id>", uploads.upload_resumable, name="upload_resumable"),
]
