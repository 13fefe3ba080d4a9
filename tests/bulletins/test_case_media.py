"""The compose page's picker of a case's stills and clips: only media the sender may read for the chosen case, each
listing and each thumbnail in the ledger (the owner sees them), masked thumbnails, and a picked still or clip sent
as a typed code would be; without JavaScript, a button shows the chosen case's list and sends nothing."""

import io

import pytest
from django.test import Client
from guardian.shortcuts import assign_perm
from PIL import Image

from audit.actions import Action
from audit.models import AccessEntry, PendingEntry
from bulletins.models import Bulletin
from integration.models import PrivacyMask
from registry.owner_history import history_rows
from requests_app.services import still_store
from tests.bulletins.conftest import case_clip, jpeg
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db

LEFT_HALF = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
FORM = {"description": "White hat, grey backpack", "priority": "urgent", "lat": "", "lng": "", "within_km": "",
        "zone": "", "units": "2B11", "users": ""}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entries(action) -> list:
    """Sealed or still pending: the test asks what was recorded, not when it was sealed."""
    return [*AccessEntry.objects.filter(action=action), *PendingEntry.objects.filter(action=action)]


def saved_still(incident, camera, user, colour=(200, 30, 30)):
    return still_store(incident=incident, camera=camera, jpeg=jpeg((64, 48), colour), user=user, name="still.jpg",
                       session_code="00000000-0000-4000-8000-000000000000")


@pytest.fixture
def cases(officers, analyst, owner_a, owner_b, street_mp4):
    """The analyst's case with owner_a's still and clip; another case of theirs with owner_b's still; and a case
    they have no role on, with owner_a's clip."""
    mine, other, strangers = (IncidentFactory(case_number=n) for n in ("26-005100", "26-005200", "26-005300"))
    for incident in (mine, other):
        assign_perm("requests_app.view_incident", analyst, incident)
    camera_a, camera_b = owner_a.cameras.get(), owner_b.cameras.get()
    return {"mine": mine, "other": other, "strangers": strangers,
            "still": saved_still(mine, camera_a, analyst), "clip": case_clip(mine, camera_a, street_mp4),
            "other_still": saved_still(other, camera_b, analyst),
            "strangers_clip": case_clip(strangers, CameraFactory(owner=owner_a, label="Alice garage"), street_mp4)}


def test_the_picker_lists_the_chosen_cases_media_and_nothing_else(analyst, cases, owner_a):
    client = signed_in(analyst)
    page = client.get(f"/bulletins/new/?incident={cases['mine'].pk}").content.decode()
    assert f'value="still:{cases["still"].code}"' in page and f'value="clip:{cases["clip"].code}"' in page
    assert f'/bulletins/new/still/{cases["still"].code}.jpg' in page  # its thumbnail
    assert f'/evidence/{cases["clip"].code}/play/' not in page  # the player streams the evidence path itself
    assert f'data-play="/evidence/{cases["clip"].code}/download/?inline=1"' in page
    assert "Alice porch" in page and "6.0 s" in page  # the clip's camera and duration
    assert str(cases["other_still"].code) not in page and str(cases["strangers_clip"].code) not in page

    fragment = client.get(f"/bulletins/new/media/?incident={cases['other'].pk}").content.decode()
    assert str(cases["other_still"].code) in fragment and str(cases["still"].code) not in fragment
    for asked in (cases["strangers"].pk, "x", ""):  # a case without a role on it lists nothing
        refused = client.get(f"/bulletins/new/media/?incident={asked}").content.decode()
        assert "still:" not in refused and "clip:" not in refused


def test_each_listing_is_in_the_ledger_and_the_owners_history(analyst, cases, owner_a):
    signed_in(analyst).get(f"/bulletins/new/media/?incident={cases['mine'].pk}")
    listed = entries(Action.CLIPS_LISTED)
    assert len(listed) == 1 and listed[0].detail["via"] == "bulletin compose" and listed[0].detail["results"] == 2
    seen = entries(Action.CLIP_METADATA_VIEWED)
    assert {e.target_code for e in seen} == {str(cases["still"].code), str(cases["clip"].code)}
    assert {e.owner_code for e in seen} == {str(owner_a.code)}  # the live still's camera is known too
    rows = history_rows(owner=owner_a)
    assert sum("looked at the details of your clip" in row["what"] for row in rows) == 2


def test_a_still_thumbnail_is_masked_checked_and_recorded(analyst, cases, owner_a):
    PrivacyMask.objects.create(camera=owner_a.cameras.get(label="Alice porch"), points=LEFT_HALF)
    client = signed_in(analyst)
    response = client.get(f"/bulletins/new/still/{cases['still'].code}.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as thumb:
        picture = thumb.convert("RGB")
    width, height = picture.size
    assert max(picture.getpixel((width // 6, height // 2))) < 40  # the mask's fill
    red, green, blue = picture.getpixel((width * 5 // 6, height // 2))
    assert red > 150 and green < 80  # the still's own colour
    viewed = entries(Action.CLIP_VIEWED)
    assert [e.target_code for e in viewed] == [str(cases["still"].code)] and viewed[0].owner_code == str(owner_a.code)

    outsider = make_staff("investigator")  # no role on the case
    assert signed_in(outsider).get(f"/bulletins/new/still/{cases['still'].code}.jpg").status_code in (403, 404)
    assert client.get(f"/bulletins/new/still/{cases['clip'].code}.jpg").status_code == 404  # not a still
    assert len(entries(Action.CLIP_VIEWED)) == 1


def test_a_picked_still_is_sent_masked_and_a_picked_clip_as_a_segment(analyst, cases, owner_a, officers):
    from bulletins import services

    PrivacyMask.objects.create(camera=owner_a.cameras.get(label="Alice porch"), points=LEFT_HALF)
    client = signed_in(analyst)
    response = client.post("/bulletins/new/", {**FORM, "incident": str(cases["mine"].pk),
                                                "pick": f"still:{cases['still'].code}"})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    with Image.open(io.BytesIO(services.media_read(user=analyst, bulletin=bulletin))) as sent:
        picture = sent.convert("RGB")
    assert max(picture.getpixel((8, 24))) < 40 and picture.getpixel((56, 24))[0] > 150
    # The still's camera is known, so its owner is told that a still from their camera was shared.
    assert bulletin.camera_code == str(owner_a.cameras.get(label="Alice porch").code)

    response = client.post("/bulletins/new/", {**FORM, "incident": str(cases["mine"].pk),
                                                "pick": f"clip:{cases['clip'].code}", "clip_in": "1", "clip_out": "3"})
    assert response.status_code == 302
    segment = Bulletin.objects.exclude(pk=bulletin.pk).get()
    assert segment.clip_code == str(cases["clip"].code) and (segment.clip_in_s, segment.clip_out_s) == (1.0, 3.0)


def test_a_pick_of_another_case_or_with_a_different_typed_code_is_refused(analyst, cases, officers):
    client = signed_in(analyst)
    mixed = client.post("/bulletins/new/", {**FORM, "incident": str(cases["mine"].pk),
                                             "pick": f"still:{cases['still'].code}", "clip": str(cases["clip"].code)})
    assert "Pick a still or clip from the list, or type a code: not both." in mixed.content.decode()
    stranger = client.post("/bulletins/new/", {**FORM, "pick": f"clip:{cases['strangers_clip'].code}",
                                                "clip_in": "1", "clip_out": "3"})
    assert "No evidence clip with that code in a case you may view." in stranger.content.decode()
    junk = client.post("/bulletins/new/", {**FORM, "pick": "clip:not-a-code"})
    assert "Choose a still or a clip from the case&#x27;s list." in junk.content.decode()
    assert not Bulletin.objects.exists()


def test_without_javascript_a_button_shows_the_chosen_cases_list_and_sends_nothing(analyst, cases, officers):
    page = signed_in(analyst).post("/bulletins/new/", {**FORM, "incident": str(cases["mine"].pk),
                                                       "show_media": "1"}).content.decode()
    assert f'value="clip:{cases["clip"].code}"' in page
    assert "White hat, grey backpack" in page and "errorlist" not in page  # kept, and not yet checked
    assert not Bulletin.objects.exists()


def test_a_still_saved_before_clips_knew_their_camera_finds_it_in_the_ledger(analyst, cases, owner_a):
    """The migration's backfill: an older live still (no camera on its row) gets the camera its ledger entry names,
    so its owner's masks and history follow it."""
    from importlib import import_module

    from django.apps import apps

    from audit.ledger import seal
    from requests_app.models import Clip

    seal()  # the still's "taken" entry into the chain, as the sealer does
    Clip.objects.filter(pk=cases["still"].pk).update(camera=None)
    import_module("requests_app.migrations.0010_clip_camera").stills_cameras_from_ledger(apps, None)
    assert Clip.objects.get(pk=cases["still"].pk).camera == owner_a.cameras.get(label="Alice porch")
    assert Clip.objects.get(pk=cases["clip"].pk).camera is None  # an upload's camera is its request's
