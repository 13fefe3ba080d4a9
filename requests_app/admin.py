"""Investigators' workflow in the admin: incidents, choosing cameras, request states, evidence and custody."""

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from audit.actions import Action
from common import roles
from common.admin_base import ChangeHistoryRedirectMixin
from common.admin_paging import LargeListAdminMixin
from common.base_map import map_config
from registry.admin import StreetMapAdmin
from registry.selectors import cameras_near
from registry.services import map_search_record
from requests_app import selectors, services
from requests_app.custody import custody_report
from requests_app.custody_pdf import custody_pdf
from requests_app.models import Clip, FootageRequest, Incident

CAMERAS_LIMIT = 2000  # an 800 m radius downtown holds a few hundred; say so if a list is ever cut


UNSETTLED = (FootageRequest.PoliceView.QUEUED, FootageRequest.PoliceView.SENDING)


def progress_summary(requests: list[FootageRequest]) -> str:
    """"2 of 3 sent · Queued: 1 · Sent, waiting for an answer: 2", counted from the same rows the table shows, so
    the two always agree."""
    if not requests:
        return "No requests yet."
    now = timezone.now()
    counts: dict[str, int] = {}
    for footage_request in requests:
        state = selectors.police_state(footage_request, now=now)
        counts[state] = counts.get(state, 0) + 1
    view = FootageRequest.PoliceView
    delivered = len(requests) - counts.get(view.QUEUED, 0) - counts.get(view.SENDING, 0) - counts.get(view.FAILED, 0)
    parts = [f"{view(state).label}: {n}" for state, n in sorted(counts.items())]
    return f"{delivered} of {len(requests)} sent · " + " · ".join(parts)


def cameras_map_data(incident: Incident, rows: list[dict]) -> dict:
    """What the cameras page's map draws (static/requests_app/js/incident_cameras.js): the streets, the incident and
    its radius, and the listed cameras with their view cones. The rows are the search already recorded; nothing
    about their owners goes to the page."""
    return {**map_config(),
            "incident": {"lat": incident.location.y, "lng": incident.location.x, "radius": incident.radius_m},
            "cameras": [{"code": row["camera"].code, "label": row["camera"].label, "lat": row["camera"].lat,
                         "lng": row["camera"].lng, "direction": row["camera"].direction_deg,
                         "fov": row["camera"].field_of_view_deg, "range": row["camera"].range_m,
                         "covers": row["camera"].covers, "requested": row["requested"],
                         "overwritten": row["overwritten"]} for row in rows],
            # The words each marker's label adds to the camera's name, for those who hear the map.
            "words": {"facesSpot": gettext("faces the spot"), "asked": gettext("already asked"),
                      "overwritten": gettext("footage likely overwritten")}}


class FootageRequestInline(admin.TabularInline):
    """Each request as police may see it: a decline looks exactly like no answer (selectors.police_state)."""

    model = FootageRequest
    fields = ("camera_label", "owner_kind", "shown_state", "attempts", "sent_at", "shown_answered_at", "expires_at",
              "failure_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("camera__owner")

    @admin.display(description="owner")
    def owner_kind(self, footage_request):
        """Resident, business or agency: what the investigator may know of who holds the footage."""
        camera = footage_request.camera
        return camera.owner.get_kind_display() if camera else "camera deleted"

    @admin.display(description="state")
    def shown_state(self, footage_request):
        return FootageRequest.PoliceView(selectors.police_state(footage_request)).label

    @admin.display(description="answered at")
    def shown_answered_at(self, footage_request):
        # Formatted as the admin formats its own times (local zone); a method's value would show as a raw UTC repr.
        return display_for_value(selectors.police_answered_at(footage_request), self.get_empty_value_display())


class ClipInline(admin.TabularInline):
    model = Clip
    fields = ("original_name", "media_format", "duration_s", "resolution", "size", "sha256", "uploaded_at",
              "evidence_links")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="resolution")
    def resolution(self, clip):
        return f"{clip.width}×{clip.height}" if clip.width else "—"

    @admin.display(description="evidence")
    def evidence_links(self, clip):
        flag = format_html(' <strong style="color:#b3261e">integrity check failed</strong>') \
            if clip.integrity_failed_at else ""
        return format_html('<a href="{}">play</a> · <a href="{}">download</a> · <a href="{}">custody</a>{}',
                           reverse("requests_app:clip_play", args=[clip.code]),
                           reverse("requests_app:clip_download", args=[clip.code]),
                           reverse("admin:requests_app_clip_custody", args=[clip.pk]), flag)


def offense_type_field(current: str) -> forms.ChoiceField:
    """A select of the agency's offense types (settings.OFFENSE_TYPES, CONNECT_OFFENSE_TYPES in the README): they
    are published in the transparency report, so never free text. A case keeps a type since taken off the list."""
    choices = [("", "---------")] + [(o, o) for o in settings.OFFENSE_TYPES]
    if current and current not in settings.OFFENSE_TYPES:
        choices.append((current, f"{current} (no longer on the agency's list)"))
    return forms.ChoiceField(choices=choices, label="Offense type",
                             help_text="The agency's list of offense types; published in aggregate only.")


@admin.register(Incident)
class IncidentAdmin(LargeListAdminMixin, ChangeHistoryRedirectMixin, StreetMapAdmin):
    list_display = ("case_number", "offense_type", "status", "starts_at", "requests_summary", "created_at")
    list_filter = ("status", "offense_type")
    search_fields = ("case_number", "offense_type", "address")
    readonly_fields = ("code", "status", "closed_at", "created_by", "created_at", "progress")
    filter_horizontal = ("investigators",)
    inlines = [FootageRequestInline, ClipInline]
    actions = ["close_incidents", "resend_failed"]
    change_form_template = "admin/requests_app/incident/change_form.html"

    class Media:
        js = ("requests_app/js/incident_progress.js",)
    fieldsets = [
        (None, {"fields": ("case_number", "offense_type", "status", "progress")}),
        ("Where and when", {"fields": ("location", "address", "radius_m", "starts_at", "ends_at")}),
        ("What owners are told", {"fields": ("owner_summary",)}),
        ("Staff only", {"fields": ("internal_notes", "investigators", "created_by", "created_at", "closed_at",
                                   "code")}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Counted per incident shown, in the same query: a join and GROUP BY counted every request of every case for
        # each page. Declines are not answers to police (the terms promise it): only clips and "no footage" count.
        requests = FootageRequest.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
        return queryset.filter(pk__in=selectors.incidents_visible_to(user=request.user).values("pk")).annotate(
            n_requests=Coalesce(Subquery(requests.annotate(n=Count("pk")).values("n")), 0),
            n_answered=Coalesce(Subquery(requests.filter(state__in=FootageRequest.SHOWN_ANSWERS).annotate(
                n=Count("pk")).values("n")), 0))

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return selectors.can_view_incident(request.user, obj)
        return super().has_view_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:  # the page was shown, with its requests' camera labels: a read of them
            incident = self.get_object(request, unquote(object_id))
            if incident is not None and self.has_view_permission(request, incident):
                services.footage_requests_listed(incident=incident, user=request.user)
        return response

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return selectors.can_work_incident(request.user, obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # evidence and its history are never deleted from the admin

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "investigators":  # a case can be shared with investigators and supervisors only
            kwargs["queryset"] = get_user_model().objects.filter(
                is_active=True, groups__name__in=(roles.INVESTIGATOR, roles.SUPERVISOR)).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="requests (answered / sent)")
    def requests_summary(self, incident):
        return f"{incident.n_answered} / {incident.n_requests}"

    @admin.display(description="requests")
    def progress(self, incident):
        if not incident.pk:
            return "—"
        summary = progress_summary(list(incident.requests.order_by("created_at", "pk")))
        # incident_progress.js keeps it and the rows below current while requests are still going out
        return format_html('<span id="request-progress" data-url="{}">{}</span>',
                           reverse("admin:requests_app_incident_progress", args=[incident.pk]), summary)

    def save_model(self, request, obj, form, change):
        services.incident_validate(obj, kept_offense_type=form.initial.get("offense_type", "") if change else "")
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        incident = form.instance
        users = set(incident.investigators.all())
        if not change and request.user.has_perm("requests_app.add_incident"):
            users.add(request.user)  # whoever opens a case works it
        services.incident_investigators_set(incident=incident, users=users)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ValidatedForm(form):
            def _post_clean(self):
                super()._post_clean()
                kept = self.initial.get("offense_type", "") if self.instance.pk else ""
                try:
                    services.incident_validate(self.instance, kept_offense_type=kept)
                except ValidationError as exc:
                    self._update_errors(exc)

        # Set on the subclass: its metaclass builds base_fields anew from the model (a text box), which is how
        # setting the select on the parent form's field came to nothing.
        if "offense_type" in ValidatedForm.base_fields:
            ValidatedForm.base_fields["offense_type"] = offense_type_field(obj.offense_type if obj else "")
        return ValidatedForm

    @admin.action(description="Close the selected incidents")
    def close_incidents(self, request, queryset):
        closed = sum(services.incident_close(incident=incident, user=request.user) for incident in queryset
                     if self.has_change_permission(request, incident))
        self.message_user(request, f"{closed} incident(s) closed.", messages.SUCCESS)

    @admin.action(description="Resend failed requests")
    def resend_failed(self, request, queryset):
        count = sum(services.footage_requests_resend_failed(incident=incident, user=request.user)
                    for incident in queryset if self.has_change_permission(request, incident))
        self.message_user(request, f"{count} failed request(s) queued again.", messages.SUCCESS)

    def get_urls(self):
        return [
            path("<int:pk>/progress.json", self.admin_site.admin_view(self.progress_view),
                 name="requests_app_incident_progress"),
            path("<int:pk>/cameras/", self.admin_site.admin_view(self.cameras_view),
                 name="requests_app_incident_cameras"),
            path("clip/<int:pk>/custody/", self.admin_site.admin_view(self.custody_view),
                 name="requests_app_clip_custody"),
            path("clip/<int:pk>/custody/pdf/", self.admin_site.admin_view(self.custody_pdf_view),
                 name="requests_app_clip_custody_pdf"),
            *super().get_urls(),
        ]

    def progress_view(self, request, pk):
        """The requests' states as police see them, in the inline's order, and the summary: no labels, no owners."""
        incident = get_object_or_404(Incident, pk=pk)
        if not self.has_view_permission(request, incident):
            raise Http404
        requests = list(incident.requests.order_by("created_at", "pk"))
        states = [FootageRequest.PoliceView(selectors.police_state(r)) for r in requests]
        return JsonResponse({"summary": progress_summary(requests),
                             "states": [state.label for state in states],
                             "settled": not any(state in UNSETTLED for state in states)})

    def cameras_view(self, request, pk):
        """Cameras within the incident's radius, nearest first; the investigator ticks and sends."""
        incident = get_object_or_404(Incident, pk=pk)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        if request.method == "POST":
            codes = request.POST.getlist("camera")
            if not codes:
                messages.error(request, "Tick at least one camera.")
            else:
                batch = services.footage_requests_send(incident=incident, camera_codes=codes, user=request.user)
                sent = batch.requests.count()
                messages.success(request, f"{sent} request(s) queued; cameras already asked were skipped."
                                 if sent < len(codes) else f"{sent} request(s) queued.")
                return redirect("admin:requests_app_incident_change", incident.pk)
        requested = set(incident.requests.exclude(camera=None).values_list("camera__code", flat=True))
        cameras = cameras_near(point=incident.location, radius_m=incident.radius_m, limit=CAMERAS_LIMIT + 1)
        truncated, cameras = len(cameras) > CAMERAS_LIMIT, cameras[:CAMERAS_LIMIT]
        # The list is a search around the incident, like the map's: its owners see it in their history.
        map_search_record(actor=request.user, cameras=cameras, case_number=incident.case_number, via="admin",
                          lat=round(incident.location.y, 6), lng=round(incident.location.x, 6),
                          radius_m=incident.radius_m)
        now = timezone.now()
        requested = {str(c) for c in requested}
        rows = [{"camera": camera, "requested": camera.code in requested,
                 "overwritten": not camera.records or (now - incident.starts_at).days >= camera.retention_days}
                for camera in cameras]
        context = {**self.admin_site.each_context(request), "title": f"Cameras near {incident.case_number}",
                   "incident": incident, "rows": rows, "truncated": truncated, "opts": self.model._meta,
                   "map_data": cameras_map_data(incident, rows)}
        return render(request, "admin/requests_app/incident/cameras.html", context)

    def _custody_clip(self, request, pk) -> Clip:
        """The clip, if the user may read its case: the page and its PDF answer alike, 404 to everyone else."""
        clip = get_object_or_404(Clip.objects.select_related("incident", "request__camera__owner"), pk=pk)
        if not selectors.can_view_incident(request.user, clip.incident):
            raise Http404
        return clip

    def custody_view(self, request, pk):
        """The chain of custody of one clip, printable (static/requests_app/css/custody_report.css drops the admin
        around it): origin, hash, the verification statement and every access since."""
        clip = self._custody_clip(request, pk)
        services.clips_read(clips=[clip], user=request.user, action=Action.CLIP_CUSTODY_VIEWED)
        report = custody_report(clip=clip, user=request.user)
        context = {**self.admin_site.each_context(request), "title": report.title, "report": report, "clip": clip,
                   "opts": self.model._meta}
        return render(request, "admin/requests_app/clip_custody.html", context)

    def custody_pdf_view(self, request, pk):
        """The same report as a PDF file: a copy that leaves connect, recorded as such in the owner's history."""
        clip = self._custody_clip(request, pk)
        services.clips_read(clips=[clip], user=request.user, action=Action.CLIP_CUSTODY_PDF_DOWNLOADED)
        response = HttpResponse(custody_pdf(custody_report(clip=clip, user=request.user)),
                                content_type="application/pdf")
        # Named by the case and the clip's code, never the owner's file name: nothing to escape, nothing to spoof.
        case = re.sub(r"[^A-Za-z0-9-]+", "-", clip.incident.case_number).strip("-") or "case"
        response["Content-Disposition"] = f'attachment; filename="custody-{case}-{clip.code}.pdf"'
        response["Cache-Control"] = "no-store"
        return response


@admin.register(Clip)
class ClipAdmin(LargeListAdminMixin, admin.ModelAdmin):
    """Evidence clips: supervisors place or release legal holds; everything else is read-only."""

    list_display = ("original_name", "case", "uploaded_at", "keep_days_after_close", "legal_hold", "purged_at")
    list_filter = ("legal_hold", ("purged_at", admin.EmptyFieldListFilter))
    search_fields = ("incident__case_number", "original_name", "sha256")
    fields = ("original_name", "case", "sha256", "size", "uploaded_at", "keep_days_after_close", "purged_at",
              "legal_hold", "legal_hold_reason")

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f not in ("legal_hold", "legal_hold_reason")]

    def get_queryset(self, request):
        visible = selectors.incidents_visible_to(user=request.user).values("pk")
        return super().get_queryset(request).select_related("incident", "request__camera__owner").filter(
            incident__in=visible)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # clips leave only through retention, by crypto-shredding

    @admin.display(description="case", ordering="incident__case_number")
    def case(self, clip):
        return clip.incident.case_number

    # Each list page and clip page shows the owner's file name and the case: recorded per clip, for its owner.
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and hasattr(response, "context_data"):
            services.clips_read(clips=response.context_data["cl"].result_list, user=request.user,
                                action=Action.CLIP_METADATA_VIEWED)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        clip = response.context_data.get("original") if hasattr(response, "context_data") else None
        if request.method == "GET" and response.status_code == 200 and clip is not None:
            services.clips_read(clips=[clip], user=request.user, action=Action.CLIP_METADATA_VIEWED)
        return response

    def save_model(self, request, obj, form, change):
        if {"legal_hold", "legal_hold_reason"} & set(form.changed_data):
            if obj.legal_hold and not obj.legal_hold_reason.strip():
                obj.legal_hold_reason = "legal hold (no reason given)"
            services.clip_legal_hold_set(clip=obj, hold=obj.legal_hold, reason=obj.legal_hold_reason,
                                         user=request.user)
