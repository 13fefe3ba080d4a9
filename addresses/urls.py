from django.urls import path

from addresses import views

app_name = "addresses"

urlpatterns = [
    path("addresses/search.json", views.search, name="search"),
    path("addresses/reverse.json", views.reverse, name="reverse"),
]
