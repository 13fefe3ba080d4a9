from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("account/mfa/verify/", views.mfa_verify, name="mfa_verify"),
]
