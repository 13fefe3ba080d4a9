"""connect's admin site: Django's, opening on the signed-in user's work (connect/dashboard.py) above the models."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class ConnectAdminSite(admin.AdminSite):
    site_header = "connect: staff"

    def index(self, request, extra_context=None):
        from connect.dashboard import panels_for

        return super().index(request, {"dashboard": panels_for(request.user), **(extra_context or {})})


class ConnectAdminConfig(AdminConfig):
    """django.contrib.admin (INSTALLED_APPS names this instead) with ConnectAdminSite as `admin.site`."""

    default_site = "connect.admin_site.ConnectAdminSite"
