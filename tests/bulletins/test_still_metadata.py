"""A still goes to patrol without its metadata: an owner's uploaded photo carries the phone's position and the
owner's name in its EXIF, a camera's frame may carry the camera's name; patrol gets the picture only (issue 17:
"media ... never with owner personal data"). A clean JPEG goes byte for byte; a turned photo arrives upright."""

import io

import pytest
from guardian.shortcuts import assign_perm
from PIL import Image

from bulletins import services
from bulletins.services import Addressees, Still
from tests.conftest import make_staff
from tests.requests_app.factories import IncidentFactory, sealed_clip

pytestmark = pytest.mark.django_db

OWNER_NAME = b"Jane Q. Resident"


def photo_with_metadata(*, orientation: int = 1, size=(80, 40)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # blue on the left, red on the right
    exif = image.getexif()
    exif[0x013B] = OWNER_NAME.decode()  # Artist
    exif[0x010F] = "Jane's phone"  # Make
    exif[0x0112] = orientation
    exif.get_ifd(0x8825).update({1: "N", 2: (35.0, 47.0, 10.0), 3: "W", 4: (78.0, 38.0, 20.0)})  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at 12 Oak Lane by " + OWNER_NAME)
    return out.getvalue()


def sent_still(officers, analyst, picture: bytes) -> bytes:
    bulletin = services.bulletin_send(sender=analyst, description="grey sedan", still=Still(jpeg=picture),
                                      addressees=Addressees(units=["2B11"]))
    return services.media_read(user=officers[0], bulletin=bulletin)


def test_an_owners_uploaded_photo_reaches_patrol_without_its_metadata(officers, owner_a, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    incident = IncidentFactory(case_number="26-004301")
    investigator = make_staff("investigator")
    assign_perm("requests_app.view_incident", investigator, incident)
    upload = sealed_clip(incident, photo_with_metadata(), name="IMG_2041.jpg")
    upload.media_format, upload.duration_s = "jpeg_pipe", None
    upload.save()
    still, _ = services.evidence_still(user=investigator, code=str(upload.code))
    assert OWNER_NAME in still.jpeg  # the evidence itself is kept as the owner gave it
    data = sent_still(officers, investigator, still.jpeg)
    assert OWNER_NAME not in data and b"Oak Lane" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (80, 40) and not image.getexif()


def test_a_clean_frame_goes_byte_for_byte(officers, analyst):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 40)).save(out, "JPEG")
    assert sent_still(officers, analyst, out.getvalue()) == out.getvalue()


def test_a_turned_photo_arrives_upright(officers, analyst):
    data = sent_still(officers, analyst, photo_with_metadata(orientation=6))  # "turn 90° clockwise to view"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (40, 80) and not image.getexif()
        top, bottom = image.getpixel((20, 5)), image.getpixel((20, 75))
    assert top[2] > 150 and bottom[0] > 150  # the blue half on top once upright


def test_what_is_not_a_picture_is_refused_and_nothing_is_sent(officers, analyst):
    from django.core.exceptions import ValidationError

    from bulletins.models import Bulletin

    with pytest.raises(ValidationError, match="could not be read as a picture"):
        sent_still(officers, analyst, b"\xff\xd8\xff not really a jpeg")
    assert not Bulletin.objects.exists()
