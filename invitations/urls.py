from django.urls import path

from invitations import views

app_name = "invitations"

urlpatterns = [
    path("invitations/", views.campaign_list, name="campaigns"),
    path("invitations/new/", views.campaign_new, name="campaign_new"),
    path("invitations/<uuid:code>/", views.campaign_detail, name="campaign"),
    path("invitations/<uuid:code>/send/", views.campaign_send, name="campaign_send"),
    path("invitations/<uuid:code>/letters/", views.campaign_letters, name="campaign_letters"),
    path("invitations/<uuid:code>/letters/<uuid:print_code>.pdf", views.campaign_letters_download,
         name="campaign_letters_download"),
    path("invite/", views.code_entry, name="code_entry"),
    path("invite/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("invite/<str:code>/", views.landing, name="landing"),
]
