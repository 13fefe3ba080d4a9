"""A campaign list with malformed lines: each reported by its line and why, the good addresses kept."""

import pytest

from invitations.csv_list import MAX_LINES, email_list_read
from invitations.models import Campaign
from tests.invitations.helpers import csv_upload, new_campaign

pytestmark = pytest.mark.django_db

LIST = """email,language
ana@example.org,es
not-an-address
bo@example.org
,
bo@example.org
cy@example.org,klingon
dee@@example.org
"""


def test_malformed_lines_are_reported_line_by_line_and_good_ones_kept():
    listed = email_list_read(LIST.encode())

    assert listed.rows == [("ana@example.org", "es"), ("bo@example.org", ""), ("cy@example.org", "")]
    assert listed.problems == [
        "Line 3: “not-an-address” is not an email address.",
        "Line 6: bo@example.org is listed already; it gets one invitation.",
        "Line 7: “klingon” is not a language we send in (en, es); the address is kept, in the campaign's language.",
        "Line 8: “dee@@example.org” is not an email address.",
    ]


def test_a_file_that_is_not_text_is_refused_with_a_reason():
    assert email_list_read(b"\xff\xfe\x00bad").problems == [
        "The file is not text in UTF-8: save it as CSV (UTF-8) and upload it again."]


def test_the_upload_page_keeps_the_good_addresses_and_lists_the_bad_lines(client, staff_user):
    client.force_login(staff_user("administrator"))

    response = new_campaign(client, email_list=csv_upload(LIST))

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/invitations/{campaign.code}/"
    assert campaign.recipients.count() == 3
    page = client.get(response["Location"]).content.decode()
    assert "3 addresses kept." in page
    assert "Line 3: “not-an-address” is not an email address." in page
    assert "Line 8: “dee@@example.org” is not an email address." in page


def test_a_list_with_no_usable_address_creates_nothing_and_says_why(client, staff_user):
    client.force_login(staff_user("administrator"))

    response = new_campaign(client, email_list=csv_upload("nobody\nat all\n"))

    assert response.status_code == 400 and not Campaign.objects.exists()
    page = response.content.decode()
    assert "No line of the list is a usable email address." in page
    assert "Line 1: “nobody” is not an email address." in page
    assert 'value="Downtown spring"' in page  # what was typed is kept


def test_an_email_campaign_without_a_list_and_letters_without_an_area_are_refused(client, staff_user):
    client.force_login(staff_user("administrator"))

    assert "needs a list of addresses" in new_campaign(client).content.decode()
    page = new_campaign(client, channel="letter", area_geojson="{not json").content.decode()
    assert "The drawn area is not a GeoJSON polygon" in page
    assert "choose a district or draw one" in new_campaign(client, channel="letter").content.decode()
    assert not Campaign.objects.exists()


def test_a_value_too_long_for_the_csv_reader_is_a_problem_line_not_an_error():
    listed = email_list_read(("ana@example.org\n" + "x" * 140_000 + "@example.org\nbo@example.org\n").encode())
    assert listed.rows == [("ana@example.org", ""), ("bo@example.org", "")]
    assert listed.problems == ["Line 2 cannot be read as CSV (a value longer than 128 KB, for example): it is left "
                               "out."]


def test_a_list_longer_than_the_cap_is_refused_whole_with_the_reason():
    listed = email_list_read("".join(f"a{n}@example.org\n" for n in range(MAX_LINES + 1)).encode())
    assert listed.rows == []
    assert listed.problems == [f"The list has more than {MAX_LINES} lines: split it into lists of at most "
                               f"{MAX_LINES} and make a campaign of each."]
    assert len(email_list_read("".join(f"a{n}@example.org\n" for n in range(MAX_LINES)).encode()).rows) == MAX_LINES
