"""Staff pages (campaigns: administrators only) and the public ones: the landing page and unsubscribe."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.access import staff_permission_required
from common.base_map import map_config
from common.client import client_ip
from common.ratelimit import over_limit, rate_limited
from invitations import codes, letter_files, letter_prints, selectors, services
from invitations.csv_list import email_list_read
from invitations.forms import CampaignForm, CodeForm
from invitations.models import Campaign, LetterPrint

PERMISSION = "invitations.manage_campaigns"
PROBLEMS_SHOWN = 50


@staff_permission_required(PERMISSION)
def campaign_list(request):
    return render(request, "invitations/staff/campaign_list.html", {"campaigns": selectors.campaigns_all()})


@require_http_methods(["GET", "POST"])
@staff_permission_required(PERMISSION)
def campaign_new(request):
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common = {"actor": request.user, "name": data["name"], "language": data["language"],
                  "district": data["district"] if not data.get("area_geojson") else ""}
        if data["channel"] == Campaign.Channel.EMAIL:
            listed = email_list_read(data["email_list"].read())
            if not listed.rows:
                form.add_error("email_list", "No line of the list is a usable email address.")
                return _form_page(request, form, listed.problems)
            campaign = services.campaign_create_email(rows=listed.rows, area=data["area"], **common)
            _report(request, listed.problems, kept=len(listed.rows))
        else:
            try:
                campaign = services.campaign_create_letters(area=data["area"], **common)
            except services.CampaignTooLarge as exc:
                form.add_error("district", f"The area holds {exc.found} addresses, more than one campaign prints "
                                           f"({settings.INVITE_LETTERS_MAX}): choose a smaller one.")
                return _form_page(request, form)
        return redirect("invitations:campaign", code=campaign.code)
    return _form_page(request, form)


def _form_page(request, form, problems=()):
    return render(request, "invitations/staff/campaign_new.html",
                  {"form": form, "problems": problems, "map_config": map_config()},
                  status=400 if request.method == "POST" else 200)


def _report(request, problems: list[str], *, kept: int) -> None:
    messages.success(request, f"{kept} addresses kept.")
    for problem in problems[:PROBLEMS_SHOWN]:
        messages.warning(request, problem)
    if len(problems) > PROBLEMS_SHOWN:
        messages.warning(request, f"… and {len(problems) - PROBLEMS_SHOWN} more lines left out.")


@staff_permission_required(PERMISSION)
def campaign_detail(request, code):
    campaign = get_object_or_404(Campaign, code=code)
    return render(request, "invitations/staff/campaign_detail.html", {
        "campaign": campaign, "figures": selectors.campaign_figures(campaign)})


@require_POST
@staff_permission_required(PERMISSION)
def campaign_send(request, code):
    campaign = get_object_or_404(Campaign, code=code, channel=Campaign.Channel.EMAIL)
    if services.campaign_send(actor=request.user, campaign=campaign):
        messages.success(request, "The invitations are being sent.")
    else:
        messages.info(request, "This campaign was sent already.")
    return redirect("invitations:campaign", code=campaign.code)


@require_http_methods(["GET", "POST"])
@staff_permission_required(PERMISSION)
def campaign_letters(request, code):
    """POST asks a worker to build the letters (up to CONNECT_INVITE_LETTERS_MAX pages: never in the request); GET
    shows the build's progress (the page reloads itself while it runs) and, once ready, the download."""
    campaign = get_object_or_404(Campaign, code=code, channel=Campaign.Channel.LETTER)
    if request.method == "POST":
        letter_prints.letters_build_request(actor=request.user, campaign=campaign)
        return redirect("invitations:campaign_letters", code=campaign.code)
    latest = campaign.prints.first()
    return render(request, "invitations/staff/letters.html", {
        "campaign": campaign, "print": latest,
        "building": latest is not None and latest.status in (LetterPrint.Status.QUEUED, LetterPrint.Status.BUILDING)})


@require_GET
@staff_permission_required(PERMISSION)
def campaign_letters_download(request, code, print_code):
    letter_print = get_object_or_404(LetterPrint.objects.select_related("campaign"), code=print_code,
                                     campaign__code=code, status=LetterPrint.Status.READY)
    pdf = letter_files.read(letter_print)
    letter_prints.letters_downloaded(actor=request.user, letter_print=letter_print)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invitations-{letter_print.campaign.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# Public pages


@require_http_methods(["GET", "POST"])
@rate_limited("invite-code")
def code_entry(request):
    """Where a letter's reader types the code printed on it: typing it is a person's visit, counted here."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = codes.short_code_parsed(form.cleaned_data["code"])
        recipient = services.invitation_visit(code=code) if code else None
        if recipient is not None:
            return _registration_redirect(recipient)
        form.add_error("code", _("That is not a code from one of our letters. Check it and type it again."))
    return render(request, "invitations/code_entry.html", {"form": form})


def _guesses_over_limit(request) -> bool:
    """Unknown codes opened from one address: a person mistypes a few, a guesser many."""
    return settings.RATE_LIMITS_ENABLED and over_limit(
        "invite-guess:ip", client_ip(request) or "", limit=settings.RATE_LIMIT_PER_ADDRESS,
        window_s=settings.RATE_LIMIT_WINDOW_MINUTES * 60)


@require_http_methods(["GET", "POST"])
@rate_limited("invite-landing")
def landing(request, code):
    """GET shows a Continue button and counts nothing: mail scanners and link previews open every link in a mail.
    The button's POST, a person's own action, counts the visit and opens the registration page with the
    invitation's area (a letter's address) filled in. An unknown code still leads to registration."""
    parsed = codes.short_code_parsed(code)
    recipient = services.invitation_of(code=parsed) if parsed else None
    if recipient is None:
        if _guesses_over_limit(request):
            return render(request, "rate_limited.html", {"minutes": settings.RATE_LIMIT_WINDOW_MINUTES}, status=429)
        return render(request, "invitations/unknown_code.html", status=404)
    if request.method == "POST":
        services.invitation_visit(code=parsed)
        return _registration_redirect(recipient)
    return render(request, "invitations/landing.html")


def _registration_redirect(recipient):
    query = {"invite": recipient.short_code}
    if recipient.location is not None:
        query.update(lat=f"{recipient.location.y:.6f}", lng=f"{recipient.location.x:.6f}", address=recipient.address)
    elif recipient.campaign.area is not None:
        west, south, east, north = recipient.campaign.area.extent
        query["focus"] = f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"
    return redirect(reverse("registry:register") + "?" + urlencode(query))


# RFC 8058: the mail program posts with no session or token; the signed link is the authority. Not rate-limited:
# a large mail provider posts every one-click unsubscribe of its users from a few addresses, and each must count.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a button (mail scanners open links); POST, from that button or a one-click mail program,
    unsubscribes."""
    if codes.unsubscribe_hash(token) is None:
        raise Http404
    if request.method == "POST":
        services.unsubscribe(token=token, one_click=request.POST.get("List-Unsubscribe") == "One-Click")
        return render(request, "invitations/unsubscribed.html")
    return render(request, "invitations/unsubscribe.html")
