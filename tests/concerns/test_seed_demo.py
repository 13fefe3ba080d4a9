"""The demo's neighbour's concern: one integrated camera's owner is asked about a home it faces, and can answer by
adding a mask; running it again changes nothing."""

import json

import pytest
from django.core.management import call_command

from concerns.models import Concern, OwnerAsk
from tests.conftest import sign_in_owner

pytestmark = pytest.mark.django_db


def test_the_demo_concern_ends_with_its_owner_adding_a_mask(client, django_capture_on_commit_callbacks, mailoutbox):
    call_command("seed_demo", residents=40, businesses=60, agency=20)
    call_command("seed_demo_live")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_concern")
    call_command("seed_demo_concern")
    concern = Concern.objects.get()
    assert concern.state == Concern.State.ASKED
    ask = OwnerAsk.objects.get(concern=concern)  # the camera it was seeded for covers the home
    assert any("A neighbour asks about your camera" in m.subject for m in mailoutbox)
    owner = ask.camera.owner
    sign_in_owner(client, owner)
    masks_url = f"/owner/cameras/{ask.camera.code}/live/masks/"
    client.post(masks_url, {"masks": json.dumps([[[0.3, 0], [0.7, 0], [0.7, 1], [0.3, 1]]]), "action": "save"})
    refused = client.post(f"/owner/concerns/{ask.code}/", {"answer": "masked"}).content.decode()
    assert "does not hide that home yet" in refused  # the home, 15 m ahead, fills the picture's width
    client.post(masks_url, {"masks": json.dumps([[[0, 0.25], [1, 0.25], [1, 0.75], [0, 0.75]]]), "action": "save"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/owner/concerns/{ask.code}/", {"answer": "masked"})
    assert Concern.objects.get().state == Concern.State.CLOSED
    assert "1 added a privacy mask over your home." in mailoutbox[-1].body
