"""The landing page: a letter's code opens registration with its place filled in, counts a visit once, and a
registration made from it is counted; the campaign page shows figures under 5 as "fewer than 5"."""

import re

import pytest

from invitations.codes import short_code_shown
from invitations.models import Campaign
from tests.invitations.helpers import AREA_GEOJSON, address_points, csv_upload, new_campaign
from tests.registry.test_registration import registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def letters(client, staff_user):
    address_points(3)
    address_points(2, inside=False)
    client.force_login(staff_user("administrator"))
    assert new_campaign(client, channel="letter", area_geojson=AREA_GEOJSON).status_code == 302
    return Campaign.objects.get()


def test_a_letter_campaign_invites_the_addresses_inside_the_area_only(letters):
    assert sorted(letters.recipients.values_list("address", flat=True)) == [
        "100 Test St, Raleigh 27601", "101 Test St, Raleigh 27601", "102 Test St, Raleigh 27601"]


def test_the_landing_page_prefills_the_registration_and_counts_one_visit(letters, django_user_model):
    from django.test import Client

    visitor = Client()
    recipient = letters.recipients.order_by("address").first()

    response = visitor.post(f"/invite/{recipient.short_code}/")

    assert response.status_code == 302 and response["Location"].startswith("/register/?")
    page = visitor.get(response["Location"]).content.decode()
    assert f'name="invite" value="{recipient.short_code}"' in page
    assert 'value="100 Test St, Raleigh 27601"' in page  # the letter's address, on the owner and the camera
    assert re.search(r'name="cameras-0-latitude"[^>]*value="35\.78', page)
    visitor.post(f"/invite/{short_code_shown(recipient.short_code).lower()}/")  # typed again, as printed
    letters.refresh_from_db()
    assert letters.visits == 1


def test_opening_the_link_counts_no_visit_until_the_person_continues(letters):
    """Mail scanners and link previews GET every link in a mail: a GET shows the Continue button, counts nothing."""
    from django.test import Client

    recipient = letters.recipients.order_by("address").first()
    for _scanner in range(3):
        page = Client().get(f"/invite/{recipient.short_code}/")
        assert page.status_code == 200 and "Continue to registration" in page.content.decode()
    letters.refresh_from_db()
    assert letters.visits == 0

    Client().post(f"/invite/{recipient.short_code}/")
    letters.refresh_from_db()
    assert letters.visits == 1


def test_a_typed_code_counts_the_visit_and_opens_registration(letters):
    from django.test import Client

    recipient = letters.recipients.order_by("address").first()
    response = Client().post("/invite/", {"code": short_code_shown(recipient.short_code).lower()})
    assert response.status_code == 302 and response["Location"].startswith("/register/?invite=")
    letters.refresh_from_db()
    assert letters.visits == 1


def test_guessing_codes_is_rate_limited(letters, settings):
    from django.core.cache import cache
    from django.test import Client

    settings.RATE_LIMITS_ENABLED, settings.RATE_LIMIT_PER_ADDRESS = True, 3
    cache.clear()
    guesser = Client()
    statuses = [guesser.get(f"/invite/ZZZZZZZ{c}/").status_code for c in "2346"]
    assert statuses == [404, 404, 404, 429]


def test_a_registration_from_an_invitation_is_counted_once(letters, client, django_capture_on_commit_callbacks):
    from django.test import Client

    codes = list(letters.recipients.values_list("short_code", flat=True))
    for number, code in enumerate(codes * 2):  # each invitation used twice: counted once each
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/register/", registration(email=f"r{number}@example.org", invite=code))
        assert response.status_code == 302
    Client().post("/register/", registration(email="other@example.org", invite="NOT-A-CODE"))

    letters.refresh_from_db()
    assert letters.registrations == 3
    page = client.get(f"/invitations/{letters.code}/").content.decode()
    assert '<dd id="registrations">fewer than 5</dd>' in page
    assert '<dd id="visits">fewer than 5</dd>' in page


def test_five_or_more_are_shown_as_the_number(client, staff_user):
    client.force_login(staff_user("administrator"))
    new_campaign(client, email_list=csv_upload("".join(f"p{n}@example.org\n" for n in range(6))))
    campaign = Campaign.objects.get()
    Campaign.objects.filter(pk=campaign.pk).update(visits=6, registrations=5)

    page = client.get(f"/invitations/{campaign.code}/").content.decode()

    assert '<dd id="visits">6</dd>' in page and '<dd id="registrations">5</dd>' in page
    assert '<dd id="sends">fewer than 5</dd>' in page  # none sent yet


def test_an_email_campaign_for_an_area_shows_that_area_on_the_registration_map(client, staff_user):
    client.force_login(staff_user("administrator"))
    new_campaign(client, email_list=csv_upload("ana@example.org\n"), area_geojson=AREA_GEOJSON)
    recipient = Campaign.objects.get().recipients.get()

    response = client.post(f"/invite/{recipient.short_code}/")

    assert "focus=-78.64500%2C35.77500%2C-78.63500%2C35.78500" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert '"focus": [[35.775, -78.645], [35.785, -78.635]]' in page


def test_an_unknown_code_says_so_and_offers_registration(client):
    for code in ("ZZZZ-ZZZZ", "short", "<script>"):
        response = client.get(f"/invite/{code}/")
        assert response.status_code == 404
        assert "We could not find that invitation code" in response.content.decode()
        assert 'href="/register/"' in response.content.decode()


def test_the_code_entry_page_takes_a_code_as_printed(letters, client):
    recipient = letters.recipients.first()

    response = client.post("/invite/", {"code": f" {short_code_shown(recipient.short_code).lower()} "})

    assert response.status_code == 302 and response["Location"].startswith(f"/register/?invite={recipient.short_code}")
    page = client.post("/invite/", {"code": "hello"}).content.decode()
    assert "That is not a code from one of our letters" in page and 'value="hello"' in page


def test_the_landing_and_registration_prefill_speak_spanish(letters, client):
    from django.test import Client

    visitor = Client(headers={"accept-language": "es"})
    page = visitor.get("/invite/").content.decode()
    assert "Escriba el código impreso en su carta" in page
    assert "No encontramos ese código" in visitor.get("/invite/ZZZZZZZZ/").content.decode()


def test_a_campaign_for_a_district_takes_that_districts_outline(client, staff_user):
    client.force_login(staff_user("administrator"))
    new_campaign(client, email_list=csv_upload("ana@example.org\n"), district="Downtown")
    campaign = Campaign.objects.get()

    assert campaign.district == "Downtown" and campaign.area is not None
    response = client.post(f"/invite/{campaign.recipients.get().short_code}/")
    assert "focus=" in response["Location"]
    assert "Downtown" in client.get(f"/invitations/{campaign.code}/").content.decode()


def test_the_registration_page_ignores_a_prefill_it_cannot_use(client):
    """A hand-edited link: a point outside the service area, junk, a bad invitation code. The page opens as usual."""
    for query in ("lat=40.71&lng=-74.0&address=Elsewhere", "lat=junk&lng=nan&focus=1,2,3",
                  "focus=10,10,5,5", "invite=<script>alert(1)</script>"):
        response = client.get(f"/register/?{query}")
        page = response.content.decode()
        assert response.status_code == 200, query
        assert 'value="Elsewhere"' not in page and '"focus"' not in page and 'cameras-0-latitude" value' not in page
        assert 'name="invite"' not in page
