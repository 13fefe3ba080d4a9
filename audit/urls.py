from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.search, name="search"),
    path("transparency/", views.transparency, name="transparency"),
]
