"""Staff views of owners and cameras in the Django admin, with the map widget and agency imports."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import smart_split, unescape_string_literal
from leaflet.admin import LeafletGeoAdmin

from audit.actions import Action
from audit.ledger import entry, record, record_many
from common.admin_base import ChangeHistoryRedirectMixin, NulSafeChangelistMixin, RecordAdmin
from common.admin_paging import LargeListAdminMixin
from common.ratelimit import over_limit
from registry import selectors, services
from registry.importing import ImportFileError, cameras_import, parse_upload
from registry.models import Camera, DeletionRecord, Owner

MAX_IMPORT_BYTES = 10 * 1024 * 1024
OWNER_IDS_INLINE = 5000  # the most owner ids a camera search writes into its query
LIST_OWNERS = selectors.LIST_OWNERS
NOT_REACHED = ("An owner's contact details open from your cases only: from a case you may view, open the page of a "
               "camera it asked for footage, then \"Owner's contact details\". Program administrators can help "
               "with anything else.")
TOO_MANY = "You have opened many owners' contact details in the last hour. Try again later, or ask an administrator."


def search_terms(search_term: str) -> list[str]:
    """The terms Django's admin search splits a search into: words, or "quoted phrases"."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        terms.append(bit)
    return terms


class CameraInline(admin.TabularInline):
    model = Camera
    fields = ("label", "address", "placement", "level", "status", "verified")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Camera.Status.ACTIVE)  # paused: hidden from staff


def refused(request, model_admin, message: str, *, status: int = 403) -> TemplateResponse:
    context = {**model_admin.admin_site.each_context(request), "title": "You cannot open this owner",
               "message": message, "opts": model_admin.opts}
    return TemplateResponse(request, "admin/registry/owner/refused.html", context, status=status)


def is_autocomplete(request) -> bool:
    match = request.resolver_match
    return match is not None and match.url_name == "autocomplete"


class OwnerReasonForm(forms.Form):
    reason = forms.CharField(min_length=5, max_length=200, label="Why do you need this owner's contact details?",
                             help_text="For example the case number and what you will ask. The owner sees it.")


@admin.register(Owner)
class OwnerAdmin(LargeListAdminMixin, ChangeHistoryRedirectMixin, NulSafeChangelistMixin, admin.ModelAdmin):
    """Contact details are reached one owner at a time, with a reason the owner reads in their history; only
    program administrators (registry.list_owners) browse and search the list. Unconfirmed registrations are
    nobody's business until confirmed (selectors.STAFF_VISIBLE_OWNER)."""

    list_display = ("name", "kind", "email", "phone", "camera_count", "confirmed_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "email", "phone", "address", "code")
    # The language of the owner's mail is theirs to choose (registration, portal); staff only see it.
    readonly_fields = ("code", "terms_version", "terms_accepted_at", "created_at", "confirmed_at",
                       "confirmation_sent_at", "language")
    inlines = [CameraInline]

    def get_queryset(self, request):
        # Only the owners the viewer's work leads to (selectors.owners_open_to); the change history follows this too.
        # Their camera counts in the same query, computed for the page's rows only (a subquery per row shown).
        cameras = Camera.objects.filter(owner=OuterRef("pk")).order_by().values("owner").annotate(n=Count("pk"))
        return super().get_queryset(request).filter(
            pk__in=selectors.owners_open_to(user=request.user).values("pk")).annotate(
            n_cameras=Coalesce(Subquery(cameras.values("n")), 0))

    def get_readonly_fields(self, request, obj=None):
        # Residents and businesses register themselves; the admin adds only agency owners, and a kind never changes.
        return (*self.readonly_fields, "kind") if obj is not None else self.readonly_fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [(Owner.Kind.AGENCY, Owner.Kind.AGENCY.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.has_perm(LIST_OWNERS)  # others reach one owner from a camera or a request, not a list

    def get_search_fields(self, request):
        # Django's admin autocomplete serves any model admin with search fields, to anyone who may view it: over
        # owners, a silent "is this phone number an owner?" lookup. There is none; the list's search is ledgered.
        return () if is_autocomplete(request) else self.search_fields

    @admin.display(description="cameras", ordering="n_cameras")
    def camera_count(self, owner):
        return owner.n_cameras

    # Every look at owners' contact details goes into the ledger, like any other access, with its reason. Every
    # method that shows the page asks the reason; only those who may change owners post; nothing else is served.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        owner = self.get_object(request, unquote(object_id))
        if owner is None or not self.has_view_or_change_permission(request, owner):
            if self.has_view_or_change_permission(request) and not request.user.has_perm(LIST_OWNERS):
                return refused(request, self, NOT_REACHED)  # not in their work, or no such owner: the same answer
            return super().change_view(request, object_id, form_url, extra_context)  # Django's refusal
        if request.method == "POST" and not self.has_change_permission(request, owner):
            raise PermissionDenied
        reason_form = OwnerReasonForm(request.GET if "reason" in request.GET else None)
        if request.method != "POST" and not reason_form.is_valid():
            return self._ask_why(request, owner, reason_form)
        if not request.user.has_perm(LIST_OWNERS) and over_limit(
                "owner-page", f"{request.user.pk}:{request.user.date_joined.isoformat()}",
                limit=settings.OWNER_PAGE_OPENS_PER_HOUR, window_s=3600):
            return refused(request, self, TOO_MANY, status=429)
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:  # the page with the details (a POST with errors, which saved nothing, too)
            if not reason_form.is_valid():
                return self._ask_why(request, owner, reason_form)
            record(actor=request.user, action=Action.OWNER_CONTACT_VIEWED, target_type="owner", target_code=owner.code,
                   owner_code=owner.code, reason=reason_form.cleaned_data["reason"], via="admin")
        return response

    def _ask_why(self, request, owner, reason_form):
        context = {**self.admin_site.each_context(request), "title": "Why open this owner?", "form": reason_form,
                   "opts": self.opts, "owner": owner}
        return TemplateResponse(request, "admin/registry/owner/reason.html", context)

    def history_view(self, request, object_id, extra_context=None):
        owner = self.get_object(request, unquote(object_id))
        if owner is None or not self.has_view_or_change_permission(request, owner):
            return refused(request, self, NOT_REACHED)
        return super().history_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if not request.user.has_perm(LIST_OWNERS):
            raise PermissionDenied
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and hasattr(response, "context_data") and "cl" in response.context_data:
            # One entry per owner shown, so each reads it in their history; each carries the search that found them.
            query = request.GET.urlencode()[:300]
            record_many([entry(actor=request.user, action=Action.OWNER_CONTACT_LISTED, target_type="owner",
                               target_code=owner.code, owner_code=owner.code, query=query, via="admin")
                         for owner in response.context_data["cl"].result_list])
        return response

    # The portal's deletion: cameras, links, live views and requests' personal data go, the admin's and the change
    # history's labels with them, a deletion record stays, and the ledger names who did it.
    def delete_model(self, request, obj):
        services.owner_delete(owner=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for owner in queryset:
            services.owner_delete(owner=owner, by=request.user)


class StreetMapAdmin(LeafletGeoAdmin):
    """django-leaflet's map widget with connect's streets notice, service area and districts."""

    class Media:
        js = ("connect/js/basemap.js", "registry/js/admin_basemap.js", "addresses/js/address_search.js",
              "addresses/js/admin_address.js")
        css = {"all": ("addresses/css/address_search.css",)}


@admin.register(Camera)
class CameraAdmin(LargeListAdminMixin, ChangeHistoryRedirectMixin, NulSafeChangelistMixin, StreetMapAdmin):
    """Active cameras of confirmed (or agency) owners only; every page and list shown is in the ledger, per camera,
    so each owner sees it in their history."""

    list_display = ("label", "owner_kind", "level", "status", "verified", "placement", "address", "created_at")
    list_filter = ("owner__kind", "level", "verified", "placement")
    search_fields = ("label", "address", "code", "owner__name", "owner__email")
    list_select_related = ("owner",)
    readonly_fields = ("code", "created_at", "updated_at")
    actions = ["mark_verified"]
    change_list_template = "admin/registry/camera/change_list.html"

    def get_search_fields(self, request):
        if is_autocomplete(request):
            # No form in the project picks a camera by autocomplete, and Django's autocomplete would answer any
            # staff member's "which cameras are at this address?" for any admin with a camera field, unrecorded.
            return ()
        if request.user.has_perm(LIST_OWNERS):
            return self.search_fields
        if request.user.has_perm("registry.view_owner"):
            return ("label", "address", "code")  # a crime scene's address, not "is this email an owner?"
        return ("label", "code")  # analysts must not find a home from a name or an email

    def get_queryset(self, request):
        return super().get_queryset(request).filter(selectors.STAFF_VISIBLE_CAMERA)

    @staticmethod
    def _owned_by_any(owners) -> Q:
        """Cameras of these owners. Their ids are written into the query when there are not too many, so that
        PostgreSQL sees how many cameras they hold (a name every owner shares must not look selective), else an
        array the query works out once."""
        ids = list(owners.values_list("id", flat=True)[:OWNER_IDS_INLINE + 1])
        if len(ids) <= OWNER_IDS_INLINE:
            return Q(owner_id__in=ids)
        sql, params = owners.values("id").query.sql_with_params()
        return Q(RawSQL(f'"registry_camera"."owner_id" = ANY(ARRAY({sql}))', params, output_field=BooleanField()))

    def get_search_results(self, request, queryset, search_term):
        """Django's search, with the owner's fields matched through the matching owners' ids, looked up first: a
        plain OR across the join made PostgreSQL read every camera; this way each field's trigram index answers."""
        fields = self.get_search_fields(request)
        owner_fields = [name.removeprefix("owner__") for name in fields if name.startswith("owner__")]
        if not search_term or not owner_fields:
            return super().get_search_results(request, queryset, search_term)
        own_fields = [name for name in fields if not name.startswith("owner__")]
        for term in search_terms(search_term):
            matches = Q()
            for name in own_fields:
                matches |= Q(**{f"{name}__icontains": term})
            owners = Q()
            for name in owner_fields:
                owners |= Q(**{f"{name}__icontains": term})
            matches |= self._owned_by_any(Owner.objects.filter(owners))
            queryset = queryset.filter(matches)
        return queryset, False

    def get_changeform_initial_data(self, request):
        # Staff add agency cameras, live at once; a pending camera would vanish from every staff view.
        return {"status": Camera.Status.ACTIVE, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        # A camera never changes owner; so the form needs no owner lookup (the silent "is this an owner?" search).
        # It is shown as text: Django would link it for everyone, and the owner's page opens only for some.
        return (*self.readonly_fields, "owner_label") if obj is not None else self.readonly_fields

    def get_exclude(self, request, obj=None):
        return ("owner",) if obj is not None else super().get_exclude(request, obj)

    @admin.display(description="owner")
    def owner_label(self, camera):
        return str(camera.owner)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":  # staff add cameras for the agency only; residents register their own
            kwargs["queryset"] = Owner.objects.filter(kind=Owner.Kind.AGENCY)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and request.GET.get("q"):
            record(actor=request.user, action=Action.CAMERA_ADMIN_SEARCH, target_type="camera",
                   query=request.GET.get("q", "")[:200])
        if response.status_code == 200 and hasattr(response, "context_data") and "cl" in response.context_data:
            record_many([entry(actor=request.user, action=Action.CAMERA_LISTED, target_type="camera",
                               target_code=camera.code, camera_code=camera.code, owner_code=camera.owner.code,
                               via="admin") for camera in response.context_data["cl"].result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        shown = self.get_object(request, unquote(object_id))
        if shown is not None and selectors.staff_may_open_owner(user=request.user, owner=shown.owner):
            # The link to the owner's contact details only where it opens (their work leads there).
            extra_context = {**(extra_context or {}), "owner_contact_url": reverse(
                "admin:registry_owner_change", args=[shown.owner.pk], current_app=self.admin_site.name)}
        response = super().change_view(request, object_id, form_url, extra_context)
        camera = response.context_data.get("original") if hasattr(response, "context_data") else None
        if response.status_code == 200 and camera is not None:
            record(actor=request.user, action=Action.CAMERA_VIEWED, target_type="camera", target_code=camera.code,
                   camera_code=camera.code, owner_code=camera.owner.code, via="admin")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:  # a pause or a change of placement here ends live views as the owner's own change would
            services.camera_changed_by_staff(camera=obj, status_before=form.initial.get("status", obj.status))

    def delete_model(self, request, obj):
        services.camera_delete(camera=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for pk in list(queryset.values_list("pk", flat=True)):
            camera = Camera.objects.select_related("owner").filter(pk=pk).first()  # fresh: it may be another's last
            if camera is not None:
                services.camera_delete(camera=camera, by=request.user)

    @admin.display(description="kind", ordering="owner__kind")
    def owner_kind(self, camera):
        return camera.owner.get_kind_display()

    @admin.action(description="Mark the selected cameras as verified", permissions=["change"])
    def mark_verified(self, request, queryset):
        updated = queryset.update(verified=True)
        self.message_user(request, f"{updated} camera(s) marked verified.", messages.SUCCESS)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="registry_camera_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not request.user.has_perm("registry.import_agency_cameras"):
            raise PermissionDenied
        form = CameraImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = parse_upload(upload.name, upload.read())
                report = cameras_import(owner=form.cleaned_data["owner"], rows=rows,
                                        skip_rejected=form.cleaned_data["skip_rejected"])
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                if report.imported:
                    self.message_user(request, f"Imported {report.imported} of {report.rows} cameras.",
                                      messages.SUCCESS)
                elif report.rejected:
                    self.message_user(request, f"Nothing was imported: {len(report.rejected)} of {report.rows} "
                                      "rows were rejected. Fix them, or tick 'skip rejected rows'.",
                                      messages.ERROR)
        context = {**self.admin_site.each_context(request), "title": "Import agency cameras", "form": form,
                   "report": report, "opts": self.model._meta,
                   "changelist_url": reverse("admin:registry_camera_changelist")}
        return render(request, "admin/registry/camera/import.html", context)


class CameraImportForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=Owner.objects.filter(kind=Owner.Kind.AGENCY),
                                   label="Agency", help_text="The police or city owner of these cameras.")
    file = forms.FileField(label="CSV or GeoJSON file",
                           help_text="CSV columns: label, latitude, longitude, address, placement, direction_deg, "
                                     "field_of_view_deg, range_m, records, retention_days, level.")
    skip_rejected = forms.BooleanField(required=False, label="Import the valid rows and skip rejected ones")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB; split it.")
        return upload


@admin.register(DeletionRecord)
class DeletionRecordAdmin(RecordAdmin):
    list_display = ("deleted_at", "scope", "owner_kind", "cameras")
    list_filter = ("scope", "owner_kind")
