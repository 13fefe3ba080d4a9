"""Staff pages for neighbours' concerns (supervisors: concerns.handle_concern). Looking up the cameras that see an
address is a read of owners' cameras: each owner finds it in their history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from common.access import staff_permission_required
from concerns import selectors, services
from concerns.models import Concern

PERM = "concerns.handle_concern"


@staff_permission_required(PERM)
@require_GET
def concern_list(request):
    return render(request, "concerns/staff_list.html", {"concerns": selectors.concerns_for_staff()[:200]})


@staff_permission_required(PERM)
@require_http_methods(["GET", "POST"])
def concern_detail(request, code):
    concern = get_object_or_404(selectors.concerns_for_staff(), code=code)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "ask":
                asked = services.concern_owners_ask(concern=concern, user=request.user)
                messages.success(request, f"The owners of {asked} camera(s) were asked." if asked else
                                 "No camera covers this address: the neighbour is told so.")
            elif request.POST.get("action") == "close":
                services.concern_close(concern=concern, user=request.user)
                messages.success(request, "Closed: the neighbour is sent the outcome.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("concerns:staff_detail", concern.code)
    if concern.state == Concern.State.OPEN:
        covering, asks = services.concern_cameras_view(concern=concern, user=request.user), []
    else:
        covering, asks = [], services.concern_asks_view(concern=concern, user=request.user)
    return render(request, "concerns/staff_detail.html", {"concern": concern, "covering": covering, "asks": asks})
