"""Records officer pages (staff, `records.prepare_release`) and the owner's objection page (public, by link)."""

import csv

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.access import staff_permission_required
from common.streamed_response import streamed
from records import letter, policy, services
from records import registry_export as export
from records.forms import BoxForm, DecisionForm, ObjectionForm, PrepareForm, RefusalLetterForm
from records.models import Redaction, Release
from requests_app.models import Incident

PERM = "records.prepare_release"


class _Echo:
    def write(self, value):
        return value


def _refused(request, reason: str):
    return render(request, "records/refused.html", {"reason": reason, "policy": policy.policy()}, status=409)


@require_GET
@staff_permission_required(PERM)
def dashboard(request):
    closed = (Incident.objects.filter(status=Incident.Status.CLOSED).order_by("-closed_at")
              .only("code", "case_number", "offense_type", "closed_at")[:200])
    return render(request, "records/dashboard.html", {
        "policy": policy.policy(), "reason": policy.confidential_reason(), "closed": closed,
        "releases": Release.objects.select_related("incident")[:100], "form": PrepareForm()})


@require_http_methods(["GET", "POST"])
@staff_permission_required(PERM)
def refusal_letter_view(request):
    """GET shows the form (reloading or prefetching it records nothing); POST prints the letter, recorded."""
    if policy.policy() != policy.CONFIDENTIAL:
        return _refused(request, "The records policy in force is releasable: there is no standing refusal to print. "
                                 "Prepare the release instead, or refuse it with a reason of its own.")
    if request.method == "GET":
        return render(request, "records/refusal_letter_form.html", {"form": RefusalLetterForm()})
    form = RefusalLetterForm(request.POST)
    if not form.is_valid():
        return render(request, "records/refusal_letter_form.html", {"form": form}, status=400)
    data = form.cleaned_data
    services.refusal_letter_record(user=request.user, requester=data["requester"], reference=data["reference"])
    made = letter.refusal_letter(user=request.user, requester=data["requester"], reference=data["reference"])
    if request.POST.get("format") == "pdf":
        response = HttpResponse(letter.refusal_letter_pdf(made), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="records-refusal.pdf"'
        return response
    return render(request, "records/refusal_letter.html", {"letter": made, "form": data})


@require_GET
@staff_permission_required(PERM)
def registry_export(request):
    try:
        counted = services.registry_export_start(user=request.user)
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in export.rows(counted))
    response = StreamingHttpResponse(streamed(request, rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="camera-registry-public.csv"'
    return response


@require_POST
@staff_permission_required(PERM)
def release_prepare(request, code):
    incident = get_object_or_404(Incident, code=code)
    form = PrepareForm(request.POST)
    if not form.is_valid():
        return _refused(request, "Give the reference of the public-records request this release answers.")
    try:
        release = services.release_prepare(incident=incident, user=request.user,
                                           request_reference=form.cleaned_data["reference"])
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    return redirect("records:release", code=release.code)


def _release(code) -> Release:
    return get_object_or_404(Release.objects.select_related("incident"), code=code)


@require_GET
@staff_permission_required(PERM)
def release_detail(request, code):
    release = _release(code)
    items = list(release.redactions.select_related("clip__request__camera__owner"))
    for item in items:
        item.ownerless = services.clip_ownerless(item.clip)
    notices = list(release.notices.all())
    services.release_viewed(release=release, user=request.user)
    return render(request, "records/release.html", {
        "release": release, "items": items, "box_form": BoxForm(), "decision_form": DecisionForm(),
        "notified": sum(1 for n in notices if n.sent_at), "owners": len(notices),
        "objections": [n for n in notices if n.objected_at]})


@require_POST
@staff_permission_required(PERM)
def release_decide(request, code):
    release = _release(code)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, "Choose to release or to withhold.")
    try:
        services.release_decide(release=release, user=request.user, decision=form.cleaned_data["decision"],
                                note=form.cleaned_data["note"])
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    return redirect("records:release", code=release.code)


def _item(code) -> Redaction:
    return get_object_or_404(Redaction.objects.select_related("release__incident", "clip__incident"), code=code)


@require_GET
@staff_permission_required(PERM)
def keyframe(request, code, index):
    item = _item(code)
    if item.state not in (Redaction.State.DONE, Redaction.State.APPROVED) or not 0 <= index < len(item.keyframes):
        return HttpResponse(status=404)
    try:
        image = services.keyframe_jpeg(item=item, index=index, user=request.user)
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    response = HttpResponse(image, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@staff_permission_required(PERM)
def redaction_adjust(request, code):
    item = _item(code)
    form = BoxForm(request.POST)
    if not form.is_valid():
        return _refused(request, "; ".join(e for errors in form.errors.values() for e in errors))
    try:
        if form.cleaned_data["retry"]:
            services.redaction_retry(item=item, user=request.user)
        else:
            services.redaction_adjust(item=item, user=request.user, box=form.box(),
                                      whole_frame=form.cleaned_data["whole_frame"] or None)
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    return redirect("records:release", code=item.release.code)


@require_POST
@staff_permission_required(PERM)
def redaction_approve(request, code):
    item = _item(code)
    try:
        services.redaction_approve(item=item, user=request.user)
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))
    return redirect("records:release", code=item.release.code)


@require_GET
@staff_permission_required(PERM)
def redacted_download(request, code):
    item = _item(code)
    try:
        reader = services.redacted_download(item=item, user=request.user)
    except policy.ReleaseRefused as exc:
        return _refused(request, str(exc))

    def chunks():
        try:
            while piece := reader.read(1024 * 1024):
                yield piece
        finally:
            reader.close()

    response = StreamingHttpResponse(streamed(request, chunks()), content_type="video/mp4")
    name = f"{item.release.incident.case_number}-redacted-{str(item.code)[:8]}.mp4"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = item.sha256
    return response


@require_http_methods(["GET", "POST"])
def objection(request, token):
    """Mail scanners open links: GET only shows the form, POST records the objection."""
    try:
        notice = services.objection_notice(token=token)
    except services.ObjectionLinkError as exc:
        return render(request, "records/objection_invalid.html", {"why": str(exc)}, status=410)
    release = notice.release
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.objection_record(notice=notice, text=form.cleaned_data["objection"])
        return render(request, "records/objection_done.html", {"release": release})
    return render(request, "records/objection.html", {"form": form, "release": release,
                                                      "incident": release.incident})
