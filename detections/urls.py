from django.urls import path

from detections import views

app_name = "detections"

urlpatterns = [
    path("cases/<uuid:code>/search/", views.case_search, name="case_search"),
    path("cases/<uuid:code>/watches/<uuid:watch>/end/", views.watch_end, name="watch_end"),
    path("detections/<uuid:code>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
]
