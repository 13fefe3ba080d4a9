"""A concern from the public form to the owner's mask to the neighbour's email, through a real SMTP sink: what each
person reads, and what the ledger and the transparency report keep."""

import json
import re

import pytest
from django.test import Client

from audit.actions import Action
from audit.models import AccessEntry
from audit.transparency import monthly
from concerns import links, services
from concerns.models import Concern, OwnerAsk
from registry.models import Camera
from tests.concerns.helpers import HOME_ADDRESS, concern_form, confirmed_concern, supervisor
from tests.conftest import link_in, parsed_mail, sign_in_owner, token_from

pytestmark = pytest.mark.django_db


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_a_concern_ends_with_the_owner_adding_a_mask_and_the_neighbour_told_only_that(
        client, owner_a, owner_b, smtp_sink, django_capture_on_commit_callbacks):
    alice_camera = owner_a.cameras.get()
    Camera.objects.filter(pk=alice_camera.pk).update(level=Camera.Level.INTEGRATED)
    # The neighbour fills in the form and confirms by the emailed link.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/concern/", concern_form())
    assert response.status_code == 302 and response["Location"] == "/concern/sent/"
    assert b"Check your email" in client.get("/concern/sent/").content
    [confirm_mail] = parsed_mail(smtp_sink)
    assert confirm_mail["To"] == "nina@example.org" and HOME_ADDRESS in _text(confirm_mail)
    confirm_url = link_in(confirm_mail)
    assert b"Confirm my concern" in client.get(confirm_url).content  # GET only shows the button
    assert Concern.objects.get().state == Concern.State.UNCONFIRMED
    assert b"Your concern is confirmed" in client.post(confirm_url).content
    assert client.post(confirm_url).status_code == 410  # used once

    # A supervisor sees the one camera that covers the address, and asks its owner.
    concern = Concern.objects.get()
    staff = client_for_supervisor()
    page = staff.get(f"/staff/concerns/{concern.code}/").content.decode()
    assert "Alice porch" in page and "Bob driveway" not in page and "inside its view cone" in page
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/staff/concerns/{concern.code}/", {"action": "ask"})
    ask = OwnerAsk.objects.get()
    assert ask.camera == alice_camera
    ask_mail = parsed_mail(smtp_sink)[-1]
    assert ask_mail["To"] == "alice@example.org" and HOME_ADDRESS in _text(ask_mail)
    assert "nina" not in _text(ask_mail)  # the owner never learns who asked

    # Alice opens the link, is signed in on the request, must draw a mask before saying she did, then answers.
    owner_client = Client()
    landing = owner_client.post(link_in(ask_mail))
    assert landing.status_code == 302 and landing["Location"] == f"/owner/concerns/{ask.code}/"
    refused = owner_client.post(landing["Location"], {"answer": "masked"})
    assert "no privacy mask yet" in refused.content.decode()
    masks_url = f"/owner/cameras/{alice_camera.code}/live/masks/"
    owner_client.post(masks_url, {"masks": json.dumps([[[0.5, 0], [0.9, 0], [0.9, 1], [0.5, 1]]]), "action": "save"})
    refused = owner_client.post(landing["Location"], {"answer": "masked"}).content.decode()
    # Half the home still shows: refused, saying where in the picture the home is.
    assert "does not hide that home yet" in refused and re.search(r"between [89]% and 9[12]% of the width", refused)
    owner_client.post(masks_url, {"masks": json.dumps([[[0.05, 0.2], [0.95, 0.2], [0.95, 0.8], [0.05, 0.8]]]),
                                  "action": "save"})
    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(landing["Location"], {"answer": "masked"}, follow=True)
    assert "your answer is recorded" in done.content.decode()
    sign_in_owner(owner_client, owner_a)  # the emailed link opened the request only; the history needs a sign-in
    assert "a neighbour asked whether your camera sees their home" in owner_client.get(
        "/owner/history/").content.decode()

    # The neighbour learns what owners did, in counts, and nothing that points to an owner or a camera.
    outcome = parsed_mail(smtp_sink)[-1]
    assert outcome["To"] == "nina@example.org"
    body = _text(outcome)
    assert "The owner of 1 camera that can see your address was asked." in body
    assert "1 added a privacy mask over your home." in body
    for secret in ("Alice", "alice@", "Alpha Street", "porch", str(alice_camera.code), str(owner_a.code),
                   "35.77", "-78.63", "Bob"):
        assert secret not in body and secret not in _html(outcome) and secret not in outcome["Subject"]
    closed = Concern.objects.get()
    assert closed.state == Concern.State.CLOSED and closed.email == ""  # the neighbour's email is not kept

    actions = set(AccessEntry.objects.values_list("action", flat=True))
    assert {Action.CONCERN_RECEIVED, Action.CONCERN_CAMERAS_VIEWED, Action.CONCERN_OWNER_ASKED,
            Action.CONCERN_ANSWERED, Action.CONCERN_CLOSED} <= actions
    month = monthly(months=1)[0]
    assert (month["concerns"], month["concern_owners_asked"], month["concern_masked"]) == (1, 1, 1)
    page = client.get("/transparency/").content.decode()
    assert "Camera owners asked about a neighbour" in page, page[page.find("<table"):][:1500]


def client_for_supervisor():
    staff = Client()
    staff.force_login(supervisor())
    return staff


def test_no_covering_camera_closes_the_concern_and_says_so(client, owner_b, smtp_sink,
                                                           django_capture_on_commit_callbacks):
    concern = confirmed_concern()
    staff = client_for_supervisor()
    assert "No active camera" in staff.get(f"/staff/concerns/{concern.code}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/staff/concerns/{concern.code}/", {"action": "ask"})
    [outcome] = [m for m in parsed_mail(smtp_sink) if "What camera owners did" in m["Subject"]]
    assert "No camera in the program can see your address" in _text(outcome)


def test_staff_close_counts_silent_owners_as_not_answering(owner_a, smtp_sink, django_capture_on_commit_callbacks):
    concern = confirmed_concern()
    staff = client_for_supervisor()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/staff/concerns/{concern.code}/", {"action": "ask"})
        staff.post(f"/staff/concerns/{concern.code}/", {"action": "close"})
    outcome = [m for m in parsed_mail(smtp_sink) if "What camera owners did" in m["Subject"]][-1]
    assert "1 did not answer." in _text(outcome)


def test_the_owner_link_signs_in_once_and_is_no_confirmation_link(client, owner_a):
    concern = confirmed_concern()
    services.concern_owners_ask(concern=concern, user=supervisor())
    ask = OwnerAsk.objects.get()
    url = links.link_url(nonce=ask.link_nonce, purpose=links.ASK)
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 410
    # a confirmation token is no owner link, and the other way round
    assert client.get(f"/concern/confirm/{token_from(url)}/").status_code == 410


def test_the_owner_link_opens_that_request_and_its_cameras_masks_only_and_briefly(client, owner_a, settings):
    from datetime import timedelta

    from django.utils import timezone

    from tests.registry.factories import CameraFactory

    camera = owner_a.cameras.get()
    second = CameraFactory(owner=owner_a, label="Alice garage", direction_deg=270)
    services.concern_owners_ask(concern=confirmed_concern(), user=supervisor())
    ask = OwnerAsk.objects.get()
    assert client.post(links.link_url(nonce=ask.link_nonce, purpose=links.ASK)).status_code == 302

    for page in (f"/owner/concerns/{ask.code}/", f"/owner/cameras/{camera.code}/live/masks/"):
        text = client.get(page).content.decode()
        assert "opens this request and its camera" in text and "Who accessed my cameras" not in text, page
    for elsewhere in ("/owner/history/", "/owner/concerns/", f"/owner/cameras/{second.code}/live/masks/",
                      f"/owner/cameras/{camera.code}/", "/owner/details/"):
        response = client.get(elsewhere)
        assert response.status_code == 302 and response["Location"] == "/owner/", elsewhere
    assert "Sign in" in client.get("/owner/").content.decode()  # the portal's home asks for a sign-in
    assert client.get(f"/owner/concerns/{ask.code}/").status_code == 200  # still open after those refusals

    session = client.session
    assert session["portal_owner"]["until"] <= (timezone.now() + timedelta(minutes=31)).timestamp()
    session["portal_owner"]["until"] = (timezone.now() - timedelta(seconds=1)).timestamp()
    session.save()
    assert client.get(f"/owner/concerns/{ask.code}/").status_code == 302


def test_an_owner_signed_in_fully_keeps_the_whole_portal_after_the_link(client, owner_a):
    services.concern_owners_ask(concern=confirmed_concern(), user=supervisor())
    ask = OwnerAsk.objects.get()
    sign_in_owner(client, owner_a)
    client.post(links.link_url(nonce=ask.link_nonce, purpose=links.ASK))
    assert client.get("/owner/history/").status_code == 200


@pytest.mark.parametrize(("masks", "stands"), [
    ([[[0.0, 0.0], [0.3, 0.0], [0.3, 1.0], [0.0, 1.0]]], False),  # a corner of the picture, not the home
    ([[[0.1, 0.0], [0.5, 0.0], [0.5, 1.0], [0.1, 1.0]]], False),  # half the house front
    ([[[0.05, 0.4], [0.5, 0.4], [0.5, 0.6], [0.05, 0.6]], [[0.5, 0.4], [0.95, 0.4], [0.95, 0.6], [0.5, 0.6]]], True),
    ([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]], True),
])
def test_a_masked_answer_needs_masks_that_hide_the_home_in_the_picture(owner_a, masks, stands):
    from django.core.exceptions import ValidationError

    from integration.models import PrivacyMask

    services.concern_owners_ask(concern=confirmed_concern(), user=supervisor())
    ask = OwnerAsk.objects.select_related("camera", "concern").get()
    for points in masks:
        PrivacyMask.objects.create(camera=ask.camera, points=points)
    if stands:
        services.ask_answer(ask=ask, owner=owner_a, answer=OwnerAsk.Answer.MASKED)
        assert OwnerAsk.objects.get().answer == OwnerAsk.Answer.MASKED
    else:
        with pytest.raises(ValidationError, match="does not hide that home"):
            services.ask_answer(ask=ask, owner=owner_a, answer=OwnerAsk.Answer.MASKED)
        assert OwnerAsk.objects.get().is_pending


@pytest.mark.parametrize("close", [False, True])
def test_staff_reading_the_asked_cameras_is_in_each_owners_history(owner_a, close):
    # Once the owners are asked (and after the close), the page lists the asked cameras and their owners' kinds:
    # that read is recorded as the look-up before the ask is, with the fields the owner's history shows.
    concern = confirmed_concern()
    user = supervisor()
    services.concern_owners_ask(concern=concern, user=user)
    if close:
        services.concern_close(concern=concern, user=user)
    camera = Camera.objects.get(owner=owner_a, concern_asks__concern=concern)
    before = AccessEntry.objects.filter(action=Action.CONCERN_CAMERAS_VIEWED).count()
    response = client_for_supervisor().get(f"/staff/concerns/{concern.code}/")
    assert response.status_code == 200 and camera.label in response.content.decode()
    assert AccessEntry.objects.filter(action=Action.CONCERN_CAMERAS_VIEWED).count() == before + 1
    entry = AccessEntry.objects.filter(action=Action.CONCERN_CAMERAS_VIEWED).order_by("-seq").first()
    assert (entry.target_code, entry.camera_code, entry.owner_code, entry.detail["concern"]) == (
        str(camera.code), str(camera.code), str(owner_a.code), str(concern.code))
