"""CONNECT_CONCERN_MASK_PENDING: the neighbour's home is masked in the covering cameras' live pictures from the moment
their owners are asked until each answers; the owner's own mask editor neither shows nor replaces that mask."""

import io

import pytest
from PIL import Image

from concerns import services
from concerns.models import OwnerAsk
from concerns.pending_mask import home_band
from integration import frames
from integration.models import PrivacyMask
from integration.selectors import masks_json, masks_of
from integration.services import privacy_masks_set
from registry.models import Camera
from tests.concerns.helpers import HOME, confirmed_concern, supervisor
from tests.registry.factories import DOWNTOWN

pytestmark = pytest.mark.django_db


def test_the_home_straight_ahead_is_a_band_in_the_middle_and_one_behind_is_none():
    ahead = home_band(camera_lng=DOWNTOWN[1], camera_lat=DOWNTOWN[0], direction_deg=90, field_of_view_deg=90,
                      home_lng=HOME[1], home_lat=HOME[0])
    left, right = ahead[0][0], ahead[1][0]
    assert left < 0.5 < right and right - left < 1
    behind = home_band(camera_lng=DOWNTOWN[1], camera_lat=DOWNTOWN[0], direction_deg=270, field_of_view_deg=90,
                       home_lng=HOME[1], home_lat=HOME[0])
    assert behind is None


def _frame() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (255, 255, 255)).save(out, format="JPEG")
    return out.getvalue()


def test_the_home_is_masked_until_the_owner_answers(owner_a, settings, django_capture_on_commit_callbacks):
    settings.CONCERN_MASK_PENDING = True
    camera = owner_a.cameras.get()
    Camera.objects.filter(pk=camera.pk).update(level=Camera.Level.INTEGRATED)
    concern = confirmed_concern()
    services.concern_owners_ask(concern=concern, user=supervisor())
    [held] = masks_of(camera.pk)
    assert masks_json(camera) == "[]"  # the owner's editor shows only the owner's masks
    masked = Image.open(io.BytesIO(frames.masks_apply(_frame(), frames.polygons_key([held]))))
    assert max(masked.getpixel((100, 50))) < 30 and min(masked.getpixel((5, 50))) > 220  # middle black, edge not
    privacy_masks_set(camera=camera, masks=[[[0, 0], [0.1, 0], [0.1, 0.1]]])  # saving her own masks keeps it
    assert len(masks_of(camera.pk)) == 2
    services.ask_answer(ask=OwnerAsk.objects.get(), owner=owner_a, answer="declined")
    assert masks_of(camera.pk) == [[[0, 0], [0.1, 0], [0.1, 0.1]]]
    assert not PrivacyMask.objects.exclude(held_for="").exists()


def test_off_by_default_nothing_is_masked(owner_a):
    camera = owner_a.cameras.get()
    Camera.objects.filter(pk=camera.pk).update(level=Camera.Level.INTEGRATED)
    services.concern_owners_ask(concern=confirmed_concern(), user=supervisor())
    assert masks_of(camera.pk) == []
