"""Staff views of owners and cameras in the Django admin, with the map widget and agency imports."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from leaflet.admin import LeafletGeoAdmin

from audit.actions import Action
from audit.services import record
from connect.admin_base import RecordAdmin
from registry.importing import ImportFileError, cameras_import, parse_upload
from registry.models import Camera, DeletionRecord, Owner

MAX_IMPORT_BYTES = 10 * 1024 * 1024


class CameraInline(admin.TabularInline):
    model = Camera
    fields = ("label", "address", "placement", "level", "status", "verified")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "email", "phone", "camera_count", "confirmed_at", "created_at")
    list_filter = ("kind", ("confirmed_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "email", "phone", "address", "code")
    readonly_fields = ("code", "terms_version", "terms_accepted_at", "created_at", "confirmed_at",
                       "confirmation_sent_at")
    inlines = [CameraInline]

    @admin.display(description="cameras")
    def camera_count(self, owner):
        return owner.cameras.count()

    # Every look at owners' contact details goes into the ledger, like any other access.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        owner = Owner.objects.filter(pk=object_id).only("code").first()
        if request.method == "GET" and response.status_code == 200 and owner:
            record(actor=request.user, action=Action.OWNER_CONTACT_VIEWED, target_type="owner", target_code=owner.code,
                   owner_code=owner.code)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and hasattr(response, "context_data"):
            owners = [owner.code for owner in response.context_data["cl"].result_list]
            record(actor=request.user, action=Action.OWNER_CONTACTS_LISTED, target_type="owner",
                   query=request.GET.urlencode()[:300], owners=[str(code) for code in owners])
        return response


@admin.register(Camera)
class CameraAdmin(LeafletGeoAdmin):
    list_display = ("label", "owner_kind", "level", "status", "verified", "placement", "address", "created_at")
    list_filter = ("owner__kind", "level", "status", "verified", "placement")
    search_fields = ("label", "address", "code", "owner__name", "owner__email")
    list_select_related = ("owner",)
    readonly_fields = ("code", "created_at", "updated_at")
    autocomplete_fields = ("owner",)
    actions = ["mark_verified"]
    change_list_template = "admin/registry/camera/change_list.html"

    def get_search_fields(self, request):
        if request.user.has_perm("registry.view_owner"):
            return self.search_fields
        return ("label", "code")  # analysts must not find a home from a name or an email

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("registry.view_owner"):
            return queryset
        return queryset.filter(status=Camera.Status.ACTIVE)  # paused means hidden, for those who need no more

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if request.GET.get("q"):
            record(actor=request.user, action=Action.CAMERA_ADMIN_SEARCH, target_type="camera",
                   query=request.GET.get("q", "")[:200])
        return response

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
