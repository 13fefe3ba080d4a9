from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from django.views.i18n import set_language

from accounts.forms import StaffAuthenticationForm  # noqa: E402
from connect import demo_mail
from connect.health import healthz
from connect.metrics import metrics_view

admin.site.site_header = "connect: staff"
admin.site.login_form = StaffAuthenticationForm  # with the lockout
admin.site.site_title = "connect"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),  # 404 unless CONNECT_METRICS_TOKEN is set
    # The language switch in the public pages' header. No CSRF token: a forged post can only change the language,
    # and a token would make every page's bytes differ (the sign-in page must look the same for any email).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("demo/mail/", demo_mail.inbox, name="demo_mail"),
    path("admin/", admin.site.urls),
    path("", include("addresses.urls")),
    path("", include("registry.urls")),
    path("", include("requests_app.urls")),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("integration.urls")),
    path("", include("invitations.urls")),
    path("", include("concerns.urls")),
    path("", include("agencies.urls")),
    path("", include("public_requests.urls")),
    path("api/", include("api.urls")),
    path("", include("records.urls")),
    path("", include("bulletins.urls")),
    path("", include("detections.urls")),
]
