"""The change history (django-auditlog) in the admin, naming owners, tasks and commands as well as staff."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeHistoryAdmin(LogEntryAdmin):
    @admin.display(description="Changed by")
    def user_url(self, obj):
        if obj.actor is None and obj.actor_email:
            return obj.actor_email  # "owner …", "task …", "command …" (connect/change_history.py)
        return super().user_url(obj)
