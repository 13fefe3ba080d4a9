from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse


class RecordAdmin(admin.ModelAdmin):
    """For records that are written by the system only: staff may read them, never add, edit or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NulSafeChangelistMixin:
    """PostgreSQL text cannot hold a NUL character, so a search or filter carrying one (often pasted by mistake, or
    a probe) failed in the database with a 500. The changelist drops it and says why instead."""

    def changelist_view(self, request, extra_context=None):
        bad = [key for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)]
        if bad:
            self.message_user(request, "A search or filter contained a NUL character (often pasted by mistake): it "
                                       "was ignored. Retype it.", messages.ERROR)
            query = request.GET.copy()
            for key in bad:
                del query[key]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}" if query else request.path)
        return super().changelist_view(request, extra_context)


class ChangeHistoryRedirectMixin:
    """Django admin's per-object history page lists the admin's own log, which the change history (django-auditlog,
    connect/change_history_admin.py) already holds with each field's values, filtered to what the viewer may see
    and recorded in the ledger. So the page sends there, for an object the viewer may open, and reads nothing."""

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        content_type = ContentType.objects.get_for_model(self.model)
        url = reverse("admin:auditlog_logentry_changelist", current_app=self.admin_site.name)
        return HttpResponseRedirect(f"{url}?{urlencode({'resource_type': content_type.pk, 'object_pk': obj.pk})}")
