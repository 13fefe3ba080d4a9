"""Administrators keep outside agencies and tie accounts to them (through the service: recorded, no superuser).
Requests are decided on the legal reviewer's pages (/agency/review/), not here."""

from django import forms
from django.contrib import admin

from agencies import services
from agencies.models import AgencyMember, OutsideAgency


@admin.register(OutsideAgency)
class OutsideAgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "jurisdiction_state", "created_at")
    list_filter = ("type",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # its requests and the ledger name it


class AgencyMemberForm(forms.ModelForm):
    class Meta:
        model = AgencyMember
        fields = ["user", "agency"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.is_superuser:
            raise forms.ValidationError("A superuser cannot be tied to an outside agency: take the superuser flag "
                                        "away first.")
        return user


@admin.register(AgencyMember)
class AgencyMemberAdmin(admin.ModelAdmin):
    form = AgencyMemberForm
    list_display = ("user", "agency", "added_at")
    list_filter = ("agency",)
    raw_id_fields = ("user",)

    def has_change_permission(self, request, obj=None):
        return False  # remove and add again: a tie is not moved between agencies

    def delete_model(self, request, obj):
        services.agency_member_remove(member=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for member in queryset.select_related("user", "agency"):
            services.agency_member_remove(member=member, actor=request.user)

    def save_model(self, request, obj, form, change):
        member = services.agency_member_add(agency=obj.agency, user=obj.user, actor=request.user)
        obj.pk = member.pk
