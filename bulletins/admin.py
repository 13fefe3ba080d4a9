from django.contrib import admin

from bulletins.models import PatrolOfficer


@admin.register(PatrolOfficer)
class PatrolOfficerAdmin(admin.ModelAdmin):
    """Which unit each patrol officer rides in and the zone they patrol (administrators keep it)."""

    list_display = ("unit", "user", "zone")
    search_fields = ("unit", "user__username", "zone")
    autocomplete_fields = ("user",)
