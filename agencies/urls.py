from django.urls import path

from agencies import views

app_name = "agencies"

urlpatterns = [
    path("agency/", views.home, name="home"),
    path("agency/requests/new/", views.request_new, name="request_new"),
    path("agency/requests/<uuid:code>/", views.request_detail, name="request"),
    path("agency/requests/<uuid:code>/clips/<uuid:clip>/", views.clip_download, name="clip"),
    path("agency/requests/<uuid:code>/warrant/", views.own_warrant, name="own_warrant"),
    path("agency/requests/<uuid:code>/live/<uuid:camera>/", views.live_open, name="live"),
    path("agency/packets/<uuid:code>/", views.packet, name="packet"),
    path("agency/review/", views.review_list, name="review_list"),
    path("agency/review/<uuid:code>/", views.review_detail, name="review_detail"),
    path("agency/review/<uuid:code>/decide/", views.review_decide, name="review_decide"),
    path("agency/review/<uuid:code>/revoke/", views.review_revoke, name="review_revoke"),
    path("agency/review/<uuid:code>/warrant/", views.review_warrant, name="review_warrant"),
    path("agency/review/<uuid:code>/packet/", views.packet_issue, name="packet_issue"),
    path("agency/review/packets/<uuid:code>/revoke/", views.packet_revoke, name="packet_revoke"),
]
