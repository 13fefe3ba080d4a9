"""An investigator searches a case's clips for "white hat, backpack" in the browser: the one match shows as a
whole-body thumbnail on the timeline and the map, and "open" lands on the clip at the second it appears."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from requests_app import services as requests_services
from requests_app.models import Clip
from tests.browser.conftest import staff_sign_in
from tests.conftest import make_staff, wait_for
from tests.detections.conftest import SUSPECT, street_clip  # noqa: F401 (a fixture)
from tests.registry.factories import CameraFactory
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def test_white_hat_backpack_lands_on_the_right_second(page, street_clip):  # noqa: F811
    incident = IncidentFactory(case_number="26-004512")
    requests_services.incident_investigators_set(incident=incident, users=[make_staff("investigator")])
    # Uploaded as an owner does; the commit queues the indexer (eager in tests: it runs before this returns).
    clip_uploaded(Client(), incident, CameraFactory(label="Corner store"), name="street.mp4", video=street_clip)
    clip = Clip.objects.get()
    assert clip.detection_index.state == "indexed"

    staff_sign_in(page, "investigator", next_path=f"/cases/{incident.code}/search/")
    expect(page.locator(".det-limits")).to_contain_text("never looks at faces")
    page.check("input[name=hat]")
    page.select_option("select[name=hat_colour]", "white")
    page.check("input[name=bag]")
    page.fill("#det-reason", "Robbery: the witness saw a white hat and a backpack")
    page.click(".det-form button[type=submit]")
    results = page.locator(".det-results li")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("white hat, bag, right")
    thumbnail = results.first.locator("img")
    # Thumbnails load lazily, as the person scrolls to them; each is cut from the decrypted clip on request (seconds
    # on a loaded machine), so polled from here for up to a minute.
    thumbnail.scroll_into_view_if_needed()
    wait_for(lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=60,
             what="the thumbnail to load")
    size = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[1] > 1.5 * size[0]  # head to feet
    expect(page.locator(".det-timeline a")).to_have_count(1)
    expect(page.locator("#det-map .leaflet-marker-icon")).to_have_count(1)

    page.click("a.det-open")
    page.wait_for_url(f"**/evidence/{clip.code}/play/?t=*")
    second = float(page.url.split("t=")[1])
    assert SUSPECT.start_s <= second <= SUSPECT.start_s + 0.5
    src = page.locator("video").get_attribute("src")
    assert src.startswith(f"/evidence/{clip.code}/download/") and src.endswith(f"#t={second:g}")
    # ...and the browser plays it from that second (the demo's clips were once a codec Chromium cannot play).
    page.wait_for_function("() => { const v = document.querySelector('video'); return v.readyState >= 1 || v.error }")
    assert page.evaluate("document.querySelector('video').error") is None
    assert page.evaluate("document.querySelector('video').currentTime") >= SUSPECT.start_s
