from django.contrib import admin, messages
from django.http import HttpResponseRedirect


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
