"""Bulletins: two patrol officers in their units and zones with fresh positions, an analyst who sends, a case."""

import asyncio
import io
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image

from bulletins.models import PatrolOfficer
from dispatch.models import OfficerPosition
from tests.conftest import make_staff, make_staff_named
from tests.requests_app.factories import IncidentFactory

DOWNTOWN = Point(-78.6382, 35.7796, srid=4326)


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    """A still saved to a case is evidence: into a folder of the test's own."""
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


def jpeg(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def officer(username: str, unit: str, zone: str, at: Point | None):
    user = make_staff_named("patrol", username)
    PatrolOfficer.objects.create(user=user, unit=unit, zone=zone)
    if at is not None:
        OfficerPosition.objects.create(unit=unit, location=at, recorded_at=timezone.now() - timedelta(seconds=30))
    return user


@pytest.fixture
def officers(db):
    """Adams in unit 2B11, 500 m from downtown; Baker in 4C22, about 11 km away; different zones."""
    near = officer("adams", "2B11", "Downtown", Point(-78.6382, 35.7841, srid=4326))
    far = officer("baker", "4C22", "North", Point(-78.6382, 35.8796, srid=4326))
    return near, far


@pytest.fixture
def analyst(db):
    return make_staff("analyst")


@pytest.fixture
def incident(db):
    return IncidentFactory(case_number="26-004100")


@pytest.fixture(scope="session")
def street_mp4() -> bytes:
    """Six seconds of a synthetic 1280x720 street at 10 fps (mpeg4, as a camera's export might be)."""
    from detections import synthetic

    return synthetic.clip_mp4([], seconds=6.0, fps=10)


def case_clip(incident, camera, plaintext: bytes, *, duration_s: float = 6.0):
    """An evidence clip of the case from `camera`'s owner, sealed in the evidence store as an upload is."""
    from requests_app.models import FootageRequest
    from tests.requests_app.factories import sealed_clip

    clip = sealed_clip(incident, plaintext, name="street.mp4")
    request = FootageRequest.objects.filter(incident=incident, camera=camera).first() or FootageRequest.objects.create(
        incident=incident, camera=camera, camera_label=camera.label, nonce=clip.code.hex, state="uploaded",
        expires_at=timezone.now() + timedelta(days=5))
    clip.request, clip.duration_s, clip.width, clip.height = request, duration_s, 1280, 720
    clip.save()
    return clip


@pytest.fixture
def clip_of_case(incident, owner_a, analyst, street_mp4):
    """owner_a's clip of the analyst's case."""
    from guardian.shortcuts import assign_perm

    assign_perm("requests_app.view_incident", analyst, incident)
    return case_clip(incident, owner_a.cameras.get(), street_mp4)


async def in_thread(function, /, *args, **kwargs):
    """asyncio.to_thread, closing the thread's database connection after: a thread that ends with its connection
    open keeps it from the pool, and enough such tests in one run exhaust the pool."""
    from django.db import connections

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)
