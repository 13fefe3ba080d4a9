"""Who reaches what: only administrators (invitations.manage_campaigns) see or change campaigns; anonymous
visitors, owners and every other staff role get only the landing page and unsubscribe."""

import pytest
from django.test import Client

from invitations import codes
from invitations.models import Campaign
from tests.conftest import STAFF_ROLES, sign_in_owner
from tests.invitations.helpers import csv_upload, new_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(staff_user):
    return staff_user("administrator")


@pytest.fixture
def campaign(administrator):
    admin = Client()
    admin.force_login(administrator)
    new_campaign(admin, email_list=csv_upload("ana@example.org\n"))
    return Campaign.objects.get()


def _staff_urls(campaign) -> list[tuple[str, str]]:
    return [("get", "/invitations/"), ("get", "/invitations/new/"), ("post", "/invitations/new/"),
            ("get", f"/invitations/{campaign.code}/"), ("post", f"/invitations/{campaign.code}/send/"),
            ("get", f"/invitations/{campaign.code}/letters/"), ("post", f"/invitations/{campaign.code}/letters/"),
            ("get", f"/invitations/{campaign.code}/letters/{UNKNOWN_PRINT}.pdf")]


UNKNOWN_PRINT = "00000000-0000-4000-8000-000000000000"


def _public_urls(campaign) -> list[str]:
    return ["/invite/", f"/invite/{campaign.recipients.get().short_code}/",
            f"/invite/unsubscribe/{codes.unsubscribe_token(codes.email_hash('zed@example.org'))}/"]


def test_anonymous_is_sent_to_sign_in_for_campaigns_and_reaches_landing_and_unsubscribe(campaign):
    visitor = Client()
    for method, url in _staff_urls(campaign):
        response = getattr(visitor, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    for url in _public_urls(campaign):
        assert visitor.get(url).status_code in (200, 302), url
    assert Campaign.objects.get().status == Campaign.Status.DRAFT  # nothing was sent


@pytest.mark.parametrize("role", sorted(set(STAFF_ROLES) - {"administrator"}))
def test_staff_without_the_permission_are_refused(campaign, staff_user, role):
    client = Client()
    client.force_login(staff_user(role))
    for method, url in _staff_urls(campaign):
        assert getattr(client, method)(url).status_code == 403, (role, url)
    assert Campaign.objects.count() == 1 and Campaign.objects.get().status == Campaign.Status.DRAFT


def test_an_owner_signed_in_to_the_portal_is_not_staff(campaign, owner_a):
    client = Client()
    sign_in_owner(client, owner_a)
    for method, url in _staff_urls(campaign):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_administrators_reach_every_campaign_page(campaign, administrator):
    client = Client()
    client.force_login(administrator)
    assert "Downtown spring" in client.get("/invitations/").content.decode()
    assert client.get("/invitations/new/").status_code == 200
    assert client.get(f"/invitations/{campaign.code}/").status_code == 200
    # Letters only for a letter campaign, sending only for an email one.
    assert client.get(f"/invitations/{campaign.code}/letters/").status_code == 404
    assert client.post(f"/invitations/{campaign.code}/letters/").status_code == 404
