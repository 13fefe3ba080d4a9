"""An expired bulletin's still or segment is gone at its expiry, for everyone, not only once beat's purge (every ten
minutes) has destroyed it: no page, socket or snapshot serves it in between. A still saved to the case stays."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from bulletins import selectors, services
from bulletins.models import Bulletin
from bulletins.services import Addressees, Still
from bulletins.still_delivery import Delivery, deliveries_record
from tests.bulletins.conftest import jpeg

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def expired(officers, analyst):
    """A still to Adams whose bulletin expired a minute ago; beat has not purged it yet."""
    bulletin = services.bulletin_send(sender=analyst, description="grey sedan", still=Still(jpeg=jpeg()),
                                      addressees=Addressees(units=["2B11"]))
    Bulletin.objects.filter(pk=bulletin.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    bulletin.refresh_from_db()
    assert bulletin.media_key_wrapped is not None  # not destroyed yet: only expired
    return bulletin


def test_an_expired_still_is_not_served_before_the_purge_runs(expired, officers, analyst):
    adams = officers[0]
    for user in (adams, analyst):
        response = signed_in(user).get(f"/bulletins/{expired.code}/still.jpg")
        assert response.status_code == 410, user
        assert b"expired" in response.content
        assert not response.content.startswith(b"\xff\xd8")
    assert not AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED).exists()
    page = signed_in(analyst).get(f"/bulletins/{expired.code}/").content.decode()
    assert "The still expired and was destroyed." in page and "still.jpg" not in page


def test_an_expired_still_is_not_delivered_on_the_socket_nor_offered_by_address(expired, officers):
    adams = officers[0]
    session = signed_in(adams).session.session_key
    assert deliveries_record([Delivery(code=str(expired.code), user_id=adams.pk, session_key=session)]) == {}
    payload = selectors.bulletin_payload(expired)
    assert payload["media_url"] is None and payload["media_kind"] == ""


def test_a_still_saved_to_the_case_is_still_served_past_expiry(officers, analyst, owner_a, incident):
    camera = owner_a.cameras.get()
    bulletin = services.bulletin_send(sender=analyst, description="x", incident=incident, addressees=Addressees(
        units=["2B11"]), still=Still(jpeg=jpeg(), camera_code=str(camera.code), owner_code=str(owner_a.code)))
    services.bulletin_media_save(user=analyst, bulletin=bulletin)
    Bulletin.objects.filter(pk=bulletin.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = signed_in(analyst).get(f"/bulletins/{bulletin.code}/still.jpg")
    assert response.status_code == 200 and response.content.startswith(b"\xff\xd8")
