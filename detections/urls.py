from django.urls import path

from detections import views

app_name = "detections"

urlpatterns = [
    path("cases/<uuid:code>/search/", views.case_search, name="case_search"),
    path("detections/<uuid:code>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
]
