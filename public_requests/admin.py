"""Investigators post public requests from the admin (from an incident: `?incident=<id>` pre-fills it), supervisors
approve them, and both see the confirmed answers, whose clips are in the incident's evidence."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from public_requests import selectors, services
from public_requests.models import PublicRequest
from registry.admin import StreetMapAdmin
from requests_app import selectors as incident_selectors
from requests_app.models import Incident


class PublicRequestForm(forms.ModelForm):
    class Meta:
        model = PublicRequest
        fields = ("incident", "area", "starts_at", "ends_at", "answers_until", "summary")

    def clean(self):
        data = super().clean()
        incident = data.get("incident") or getattr(self.instance, "incident", None)
        if incident is not None:
            try:
                services.public_request_validate(incident=incident, starts_at=data.get("starts_at"),
                                                 ends_at=data.get("ends_at"), answers_until=data.get("answers_until"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(PublicRequest)
class PublicRequestAdmin(StreetMapAdmin):
    form = PublicRequestForm
    list_display = ("__str__", "state", "starts_at", "answers_until", "created_by", "published_at")
    list_filter = ("state",)
    readonly_fields = ("code", "state", "created_by", "created_at", "approved_by", "published_at", "public_page",
                       "confirmed_answers")
    fields = ("incident", "area", "starts_at", "ends_at", "answers_until", "summary", *readonly_fields)
    actions = ["approve", "withdraw"]
    settings_overrides = {"DEFAULT_ZOOM": 15}

    def get_queryset(self, request):
        return selectors.public_requests_visible_to(user=request.user).select_related("incident")

    def has_change_permission(self, request, obj=None):
        if obj is not None and not incident_selectors.can_work_incident(request.user, obj.incident):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawn, never deleted: the public page's history stays

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "incident":
            workable = [incident.pk for incident in incident_selectors.incidents_workable_by(user=request.user)]
            kwargs["queryset"] = Incident.objects.filter(pk__in=workable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != PublicRequest.State.PENDING:
            # What the public was shown is what a supervisor approved: a change needs a new request.
            return ("incident", "area", "starts_at", "ends_at", "answers_until", "summary", *self.readonly_fields)
        if obj is not None:
            return ("incident", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            if "area" in form.fields:  # read-only once published: nothing to recompute
                services.public_request_area_set(public_request=obj, area_drawn=data.get("area"))
            obj.save()
            return
        posted = services.public_request_post(
            user=request.user, incident=data["incident"], area_drawn=data.get("area"), starts_at=data["starts_at"],
            ends_at=data["ends_at"], answers_until=data["answers_until"], summary=data["summary"])
        obj.pk, obj.code = posted.pk, posted.code

    @admin.display(description="public page")
    def public_page(self, obj):
        if obj.state != PublicRequest.State.PUBLISHED:
            return "not public"
        return format_html('<a href="{0}">{0}</a>', reverse("public_requests:detail", args=[obj.code]))

    @admin.display(description="confirmed answers (their clips are in the incident's evidence)")
    def confirmed_answers(self, obj):
        rows = []
        for answer in selectors.answers_shown_to_police(obj).order_by("confirmed_at"):
            clips = selectors.clips_of_answer(answer)
            links = format_html_join(" · ", '<a href="{}">download {}</a>', (
                (reverse("requests_app:clip_download", args=[clip.code]), str(clip.code)[:8]) for clip in clips))
            rows.append((str(answer.code)[:8], answer.confirmed_at.strftime("%Y-%m-%d %H:%M"), links or "no clip yet"))
        if not rows:
            return "none yet"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>answer {} · confirmed {} · {}</li>", rows))

    @admin.action(description="Approve and publish the selected requests")
    def approve(self, request, queryset):
        for public_request in queryset:
            try:
                services.public_request_approve(public_request=public_request, user=request.user)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{public_request}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                                  messages.ERROR)
            else:
                self.message_user(request, f"{public_request} is now public.", messages.SUCCESS)

    @admin.action(description="Withdraw the selected requests")
    def withdraw(self, request, queryset):
        for public_request in queryset:
            try:
                services.public_request_withdraw(public_request=public_request, user=request.user)
            except PermissionDenied as exc:
                self.message_user(request, f"{public_request}: {exc}", messages.ERROR)
