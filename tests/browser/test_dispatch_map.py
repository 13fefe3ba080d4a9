"""A call pushed by dispatch appears on the staff map at once, with its nearest cameras, and a unit's position
moves live. The map runs against a real ASGI server (uvicorn: HTTP and websockets) and Redis."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from api import services as api_services
from tests.browser.conftest import checked_page, screenshot, staff_sign_in
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asgi_page(browser, asgi_server):
    with checked_page(browser, asgi_server) as page:
        yield page


def test_a_pushed_call_and_a_moving_unit_appear_on_the_map(asgi_page):
    page = asgi_page
    CameraFactory(label="Corner store", level="integrated", location=Point(-78.6383, 35.7797, srid=4326))
    CameraFactory(label="Porch", location=Point(-78.6390, 35.7799, srid=4326))
    make_staff("analyst")
    _, key = api_services.token_create(name="CAD", scopes=["dispatch:write", "positions:write"])
    cad = APIClient()
    cad.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    staff_sign_in(page, "analyst")
    expect(page.locator("#dispatch-status")).to_contain_text("0 open calls, 0 units")

    response = cad.post("/api/v1/calls/", {"dispatch_id": "C26-77", "call_type": "Shots fired", "priority": 1,
                                           "lat": 35.7796, "lng": -78.6382, "address": "200 Fayetteville St",
                                           "received_at": timezone.now().isoformat()}, format="json")
    assert response.status_code == 201
    item = page.locator("#dispatch-calls > li")
    expect(item).to_have_count(1, timeout=5000)  # pushed, not polled: bench/positions.py measures push-to-map latency
    expect(item).to_contain_text("P1 Shots fired")
    expect(item.locator(".dispatch-cameras li").first).to_contain_text("Corner store")
    expect(item.locator(".dispatch-cameras li.integrated")).to_contain_text("live")
    expect(page.locator("#map")).to_have_attribute("data-dispatch-calls", "1")

    now = timezone.now()
    for i, lat in enumerate((35.7780, 35.7790)):
        assert cad.post("/api/v1/positions/", {"unit": "A12", "lat": lat, "lng": -78.6400, "heading": 0,
                                               "at": (now - timedelta(seconds=2 - i)).isoformat()},
                        format="json").status_code == 202
        expect(page.locator("#map")).to_have_attribute("data-dispatch-units", "1")
    unit = page.locator(".dispatch-unit", has_text="A12")
    expect(unit).to_have_count(1)
    before = unit.bounding_box()
    cad.post("/api/v1/positions/", {"unit": "A12", "lat": 35.7810, "lng": -78.6400, "heading": 0,
                                    "at": timezone.now().isoformat()}, format="json")
    page.wait_for_function("b => { const el = document.querySelector('.dispatch-unit');"
                           " return el && el.getBoundingClientRect().top < b - 2; }", arg=before["y"])
    item.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("200 Fayetteville St")
    screenshot(page, "staff-map-dispatch")
