"""The change history (django-auditlog) in the admin: each viewer sees only the history of what they may see,
and every read of it goes into the access ledger.

What may be seen is what the model's own admin shows the viewer: an entry is listed only if the viewer may view
its model and the object is in that admin's queryset for them (an incident they may not open, and its clips,
are not). Entries of models the admin does not show this way (a model with no admin, an object the admin
narrows away or that no longer exists) are left to superusers. The list, its search box, its filters and
the detail page all start from that queryset, so a search for a case note's words finds nothing a viewer
could not open. Within a visible entry, a link to an object the viewer may not see (a live session's incident)
is masked, and so are the entry's free-text values, which describe it (a hidden staff account hides only itself).

Each page read is one ledger entry for auditors (CHANGE_HISTORY_VIEWED), plus one per owner (and camera) whose
registration the page showed, which that owner sees in "Who accessed my cameras". This lives in connect/, the
wiring, because it must know which models are owners and cameras; audit imports no app.
"""

import copy
from datetime import UTC, datetime

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from audit.actions import Action
from audit.ledger import entry, record_many
from registry.models import Camera, Owner

HIDDEN = "(hidden: you may not view this)"


def _admin_for(model):
    return admin.site._registry.get(model)


def _viewable_queryset(request, model):
    """The objects of `model` the viewer may see through its admin, or None if they may see none."""
    model_admin = _admin_for(model)
    if model_admin is None or model is LogEntry or not model_admin.has_view_permission(request):
        return None
    return model_admin.get_queryset(request)


def visible_entries_filter(request) -> Q:
    """The change-history entries the viewer may see (deny by default: an empty filter matches nothing)."""
    if request.user.is_active and request.user.is_superuser:
        return Q()
    allowed = Q(pk__in=[])
    for model in list(admin.site._registry):
        queryset = _viewable_queryset(request, model)
        if queryset is None:
            continue
        content_type = ContentType.objects.get_for_model(model)
        if not queryset.query.where:  # the admin shows this viewer every object of the model, gone ones too
            allowed |= Q(content_type=content_type)
        else:
            pks = model._default_manager.filter(pk__in=queryset.values("pk")).values(
                pk_text=Cast("pk", models.CharField()))
            allowed |= Q(content_type=content_type, object_pk__in=pks)
    return allowed


def _may_see_object(request, model, pk) -> bool:
    queryset = _viewable_queryset(request, model)
    if queryset is None:
        return False
    try:
        return queryset.filter(pk=pk).exists()
    except (ValueError, TypeError):
        return False


def masked_changes(request, log_entry: LogEntry) -> dict:
    """The entry's changes with every link to an object the viewer may not see hidden, and with it the entry's
    free-text values (a reason, a note), which would describe that object."""
    changes = copy.deepcopy(log_entry.changes_dict)
    if request.user.is_active and request.user.is_superuser:
        return changes
    model = log_entry.content_type.model_class()
    if model is None:
        return {name: HIDDEN for name in changes}
    fields = {field.name: field for field in model._meta.get_fields() if hasattr(field, "attname")}
    hidden_link = False
    for name, value in changes.items():
        field = fields.get(name)
        if field is None or not field.is_relation:
            continue
        if isinstance(value, dict):  # many-to-many: the related objects' names
            if _viewable_queryset(request, field.related_model) is None:
                changes[name] = {**value, "objects": [HIDDEN]}
                hidden_link = True
            continue
        for pk in value:
            if pk not in (None, "None", "") and not _may_see_object(request, field.related_model, pk):
                changes[name] = [HIDDEN for _ in value]
                # A staff account is who acted, not what the text is about: hiding it hides no words.
                hidden_link = hidden_link or field.related_model is not get_user_model()
                break
    if hidden_link:
        for name, field in fields.items():
            if name in changes and isinstance(field, models.CharField | models.TextField) and not field.choices:
                changes[name] = [HIDDEN for _ in changes[name]]
    return changes


def utc_labelled(log_entry: LogEntry, changes: dict) -> dict:
    """A changed time is stored as UTC text (auditlog: naive, "2026-12-05 02:15:53.001980"), while the admin shows
    times in the local zone: each is shown as UTC and says so, rather than passing for local time."""
    model = log_entry.content_type.model_class()
    if model is None:
        return changes
    times = {field.name for field in model._meta.get_fields() if isinstance(field, models.DateTimeField)}
    labelled = dict(changes)
    for name, values in changes.items():
        if name in times and isinstance(values, list):
            labelled[name] = [_utc_text(value) for value in values]
    return labelled


def _utc_text(value):
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value  # "None", hidden, or not a time
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _owners_shown(log_entries) -> set[tuple[str, str]]:
    """(owner code, camera code or "") of every owner whose registration or camera the entries concern."""
    wanted: dict[type, set[str]] = {}
    for log_entry in log_entries:
        model = log_entry.content_type.model_class()
        if model is not None:
            wanted.setdefault(model, set()).add(log_entry.object_pk)
    shown = set()
    for model, pks in wanted.items():
        pks = {pk for pk in pks if pk and pk.isdigit()}
        if model is Owner:
            shown |= {(str(code), "") for code in Owner.objects.filter(pk__in=pks).values_list("code", flat=True)}
        elif model is Camera:
            shown |= {(str(owner), str(camera)) for camera, owner in
                      Camera.objects.filter(pk__in=pks).values_list("code", "owner__code")}
        elif any(f.name == "camera" and f.related_model is Camera for f in model._meta.get_fields()):
            shown |= {(str(owner), str(camera)) for camera, owner in
                      model._default_manager.filter(pk__in=pks).values_list("camera__code", "camera__owner__code")}
    return shown


def change_history_read_record(*, request, log_entries, page: str, **detail) -> None:
    """One entry for the read, and one per owner (and camera) it showed, which the owner sees."""
    log_entries = list(log_entries)
    record_many([
        entry(actor=request.user, action=Action.CHANGE_HISTORY_VIEWED, target_type="change_history", page=page,
              shown=len(log_entries), **detail),
        *(entry(actor=request.user, action=Action.CHANGE_HISTORY_VIEWED, target_type="change_history",
                owner_code=owner, camera_code=camera, page=page)
          for owner, camera in sorted(_owners_shown(log_entries))),
    ])


class ChangeHistoryAdmin(LogEntryAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(visible_entries_filter(request))

    @admin.display(description="Changed by")
    def user_url(self, obj):
        if obj.actor is None and obj.actor_email:
            return obj.actor_email  # "owner …", "task …", "command …" (common/change_history.py)
        return super().user_url(obj)

    @admin.display(description="Changes")
    def msg(self, obj):
        shown = copy.copy(obj)
        shown.changes = utc_labelled(obj, masked_changes(self.request, obj))
        return super().msg(shown)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        query = {key: request.GET.getlist(key) for key in list(request.GET)[:20]}
        change_history_read_record(request=request, log_entries=changelist.result_list if changelist else [],
                                   page="list", query=str(query)[:500])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self.request = request  # msg() masks for this viewer
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original") if hasattr(response, "context_data") else None
        change_history_read_record(request=request, log_entries=[original] if original else [], page="detail",
                                   entry_id=str(object_id)[:40])
        return response


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, ChangeHistoryAdmin)
