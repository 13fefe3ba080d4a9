"""Administrators keep outside agencies and tie accounts to them (through the service: recorded, no superuser).
Requests are decided on the legal reviewer's pages (/agency/review/), not here."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from agencies import services
from agencies.models import AgencyMember, OutsideAgency


@admin.register(OutsideAgency)
class OutsideAgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "jurisdiction_state", "created_at")
    list_filter = ("type",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # its requests and the ledger name it


@admin.register(AgencyMember)
class AgencyMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "agency", "added_at")
    list_filter = ("agency",)
    autocomplete_fields = ()
    raw_id_fields = ("user",)

    def has_change_permission(self, request, obj=None):
        return False  # remove and add again: a tie is not moved between agencies

    def save_model(self, request, obj, form, change):
        try:
            services.agency_member_add(agency=obj.agency, user=obj.user, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
