from django.urls import path

from concerns.views import portal, public, staff

app_name = "concerns"

urlpatterns = [
    # The neighbour: the public form and its emailed confirmation.
    path("concern/", public.concern_form, name="form"),
    path("concern/sent/", public.concern_sent, name="sent"),
    path("concern/confirm/<str:token>/", public.concern_confirm, name="confirm"),
    # The owners asked: the emailed link opens the portal on the request.
    path("owner/concerns/", portal.ask_list, name="portal_list"),
    path("owner/concerns/<uuid:code>/", portal.ask_detail, name="portal_detail"),
    path("owner/concerns/link/<str:token>/", portal.ask_link, name="ask_link"),
    # Staff (supervisors).
    path("staff/concerns/", staff.concern_list, name="staff_list"),
    path("staff/concerns/<uuid:code>/", staff.concern_detail, name="staff_detail"),
]
