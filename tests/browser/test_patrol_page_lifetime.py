"""What an open patrol page keeps on the screen: a bulletin's picture goes when the bulletin expires (the server has
destroyed it; a phone left open in a car must not keep it), and when the officer is disabled, signed out or taken off
patrol, the socket closes and nothing of the bulletins stays on the page."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect

from bulletins import services
from bulletins.models import Bulletin, PatrolOfficer
from bulletins.services import Addressees, Still
from tests.browser.conftest import staff_sign_in
from tests.browser.test_bulletin_flow import new_page
from tests.bulletins.conftest import jpeg
from tests.conftest import make_staff, make_staff_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_expired_picture_leaves_the_open_page_and_a_disabled_officer_keeps_nothing(browser, asgi_server):
    officer = make_staff_named("patrol", "adams")
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    sender = make_staff("analyst")
    lasting = services.bulletin_send(sender=sender, description="Grey sedan, plate partly NC-4",
                                     still=Still(jpeg=jpeg()), addressees=Addressees(units=["2B11"]))
    expiring = services.bulletin_send(sender=sender, description="White hat, grey backpack",
                                      location=Point(-78.6382, 35.7796, srid=4326), still=Still(jpeg=jpeg()),
                                      addressees=Addressees(units=["2B11"]))
    Bulletin.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() + timedelta(seconds=12))
    phone = new_page(browser, asgi_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    staff_sign_in(phone, "adams", next_path="/patrol/")
    expect(phone.locator("#status")).to_have_text("Live")
    first, second = phone.locator(f"#bulletin-{lasting.code}"), phone.locator(f"#bulletin-{expiring.code}")
    expect(second.locator("img.still")).to_have_js_property("complete", True)
    expect(first.locator("img.still")).to_have_count(1)

    expect(second.locator("img.still")).to_have_count(0, timeout=40_000)  # expired: the picture is gone
    expect(second).to_contain_text("Expired")
    expect(second).to_contain_text("White hat, grey backpack")  # the text stays, as on the server
    expect(first.locator("img.still")).to_have_count(1)

    officer.is_active = False
    officer.save()
    expect(phone.locator("#status")).to_have_text("Signed out: sign in again.", timeout=40_000)
    expect(phone.locator("article.bulletin")).to_have_count(0)
    expect(phone.locator("body")).not_to_contain_text("Grey sedan")
    assert phone.evaluate("document.querySelectorAll('img').length") == 0
