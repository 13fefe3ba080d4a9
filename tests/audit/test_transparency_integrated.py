"""The transparency report's integrated cameras: how many are shared live now, and how many were newly integrated
each month, counted from what the ledger records (the owner signing the live-sharing terms, a share stopped or
going with its camera). It read an action nothing wrote, so it always said "fewer than 5"."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from audit import transparency
from audit.ledger import purge as ledger_purge
from audit.ledger import record
from integration import services as integration
from registry.services import camera_delete
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db

ALL_HOURS = {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LIMITS = {"hours": ALL_HOURS, "incident_required": True, "incident_radius_m": 300, "max_session_minutes": 30,
          "notify_each_view": False}


def signed_business_cameras(count: int) -> list:
    cameras = []
    for i in range(count):
        owner = OwnerFactory(kind="business", name=f"Corner Store {i}")
        camera = CameraFactory(owner=owner)
        CameraFactory(owner=owner)  # a second camera: deleting the first keeps the owner
        integration.live_share_sign(camera=camera, signed_name=owner.name, ip=None, limits=LIMITS)
        cameras.append(camera)
    return cameras


def published(client) -> tuple[str, dict]:
    page = client.get("/transparency/").content.decode()
    rows = list(csv.reader(io.StringIO(b"".join(client.get("/transparency/?format=csv").streaming_content)
                                        .decode())))
    return page, {row[1]: row[4] for row in rows if row[2] == ""}


def test_integrated_now_and_newly_integrated_come_from_the_signed_terms(client):
    cameras = signed_business_cameras(8)
    integration.live_share_stop(camera=cameras[0])
    camera_delete(camera=cameras[1])  # its share goes with it
    integration.live_share_stop(camera=cameras[2])  # stopped, then signed again: one camera, counted once
    integration.live_share_sign(camera=cameras[2], signed_name="Corner Store 2", ip=None, limits=LIMITS)

    page, figures = published(client)

    assert "Cameras integrated now (live sharing)</th><td>residents fewer than 5, businesses 6, agency" in page
    assert ("Cameras newly integrated (live-sharing terms signed)</th><td>residents fewer than 5, businesses 8, "
            "agency fewer than 5") in page
    assert figures["cameras_integrated_now_business"] == "6"
    assert figures["cameras_newly_integrated_business"] == "8"  # the last month's row: this month


def test_older_signings_take_the_owners_kind_from_the_registration(client):
    for i in range(5):
        code = f"00000000-0000-0000-0000-00000000000{i}"
        record(actor=None, action="camera.registered", camera_code=code, kind="agency", level="registered")
        record(actor="owner", action="live.share_signed", target_type="camera", target_code=code, camera_code=code)

    assert transparency.integrated_now() == {"resident": 0, "business": 0, "agency": 5}
    _, figures = published(client)
    assert figures["cameras_integrated_now_agency"] == "5" and figures["cameras_newly_integrated_agency"] == "5"


def test_cameras_integrated_before_retention_purges_still_count(monkeypatch):
    now = timezone.now()
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: now - timedelta(days=800))
        cameras = signed_business_cameras(3)
        clock.setattr(timezone, "now", lambda: now - timedelta(days=400))
        assert ledger_purge() > 0  # the signings go
        assert transparency.integrated_now()["business"] == 3
        integration.live_share_stop(camera=cameras[0])
        assert transparency.integrated_now()["business"] == 2

    assert ledger_purge() > 0  # the first purge's own entry and the stop go: the count is carried on
    assert transparency.integrated_now()["business"] == 2


def test_the_api_gives_cameras_integrated_now(client):
    signed_business_cameras(5)

    body = client.get("/api/v1/transparency/").json()

    assert body["cameras_integrated_now"] == {"resident": "fewer than 5", "business": "5",
                                              "agency": "fewer than 5"}
    assert body["months"][0]["newly_integrated"]["business"] == "5"


def test_an_agency_camera_imported_as_integrated_counts_once_the_agency_signs_the_terms():
    """Decision (issue 12): the import's "integrated" level gives no live share, and without one no analyst can
    open the camera (integration.gating), so the report does not count it as shared live until the agency signs
    the terms for it like any owner; then it counts as an agency camera."""
    from registry.importing import cameras_import

    agency = OwnerFactory(kind="agency", name="City Transportation")
    report = cameras_import(owner=agency, skip_rejected=False, rows=[
        {"label": "Intersection CCTV", "latitude": "35.7796", "longitude": "-78.6382", "level": "integrated"}])
    assert report.imported == 1 and not report.rejected
    assert transparency.integrated_now()["agency"] == 0

    integration.live_share_sign(camera=agency.cameras.get(), signed_name=agency.name, ip=None, limits=LIMITS)

    assert transparency.integrated_now()["agency"] == 1
