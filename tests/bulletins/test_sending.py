"""Sending a bulletin: to units near a point, a zone, units or people; all or nothing; the still sealed at rest;
the ledger and the camera owner's history; expiry destroys the still."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from bulletins import services
from bulletins.models import Bulletin, Recipient
from bulletins.services import Addressees, Still
from registry.owner_history import history_rows
from tests.bulletins.conftest import DOWNTOWN, jpeg

pytestmark = pytest.mark.django_db


def recipients(bulletin) -> set[str]:
    return {r.user.username for r in bulletin.recipients.select_related("user")}


def test_units_within_two_km_finds_the_near_officer_only(officers, analyst):
    bulletin = services.bulletin_send(sender=analyst, description="white hat, grey backpack, heading north",
                                      location=DOWNTOWN, addressees=Addressees(near=DOWNTOWN, within_km=2))
    assert recipients(bulletin) == {"adams"}
    bulletin = services.bulletin_send(sender=analyst, description="wider", location=DOWNTOWN,
                                      addressees=Addressees(near=DOWNTOWN, within_km=15))
    assert recipients(bulletin) == {"adams", "baker"}


def test_a_zone_and_named_people(officers, analyst):
    bulletin = services.bulletin_send(sender=analyst, description="grey sedan",
                                      addressees=Addressees(zone="North", usernames=["analyst"]))
    assert recipients(bulletin) == {"baker", "analyst"}


def test_a_unit_nobody_rides_in_sends_nothing_to_anyone(officers, analyst):
    entries = AccessEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.bulletin_send(sender=analyst, description="red hoodie", still=Still(jpeg=jpeg()),
                               addressees=Addressees(units=["2B11", "9Z99"], usernames=["nobody"]))
    assert "Unit 9Z99 does not exist or has no patrol officer assigned." in refused.value.messages
    assert "There is no account named nobody." in refused.value.messages
    assert not Bulletin.objects.exists() and not Recipient.objects.exists()
    assert AccessEntry.objects.count() == entries


def test_no_unit_within_the_distance_is_a_clear_message(officers, analyst):
    with pytest.raises(ValidationError, match="No unit with a patrol officer reported a position within 0.2 km"):
        services.bulletin_send(sender=analyst, description="x", addressees=Addressees(near=DOWNTOWN, within_km=0.2))


def test_the_still_is_sealed_at_rest_and_reads_back(officers, analyst):
    picture = jpeg()
    bulletin = services.bulletin_send(sender=analyst, description="x", still=Still(jpeg=picture),
                                      addressees=Addressees(units=["2B11"]))
    bulletin.refresh_from_db()
    assert picture[100:140] not in bytes(bulletin.media_sealed)
    assert services.media_read(user=officers[0], bulletin=bulletin) == picture
    assert AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED, actor_id=officers[0].pk).exists()


def test_a_still_from_a_camera_shows_in_its_owners_history_without_content(officers, analyst, owner_a, incident):
    camera = owner_a.cameras.get()
    services.bulletin_send(sender=analyst, description="white hat", incident=incident,
                           still=Still(jpeg=jpeg(), camera_code=str(camera.code), owner_code=str(owner_a.code)),
                           addressees=Addressees(units=["2B11"]))
    rows = history_rows(owner=owner_a)
    shared = [row for row in rows if "shared a still from your camera with patrol units" in row["what"]]
    assert len(shared) == 1 and shared[0]["case"] == "26-004100"
    assert "white hat" not in str(rows)
    sent = AccessEntry.objects.get(action=Action.BULLETIN_SENT)
    assert sent.case_number == "26-004100" and sent.detail["recipients"] == 1


def test_receipts_are_stamped_once_and_acknowledging_is_recorded(officers, analyst):
    bulletin = services.bulletin_send(sender=analyst, description="x", addressees=Addressees(units=["2B11"]))
    adams, baker = officers
    assert services.receipt_mark(user=baker, code=bulletin.code, step="acknowledged") is None
    first = services.receipt_mark(user=adams, code=bulletin.code, step="acknowledged")
    assert first.state == "acknowledged" and first.received_at and first.opened_at
    again = services.receipt_mark(user=adams, code=bulletin.code, step="acknowledged")
    assert again.acknowledged_at == first.acknowledged_at
    assert AccessEntry.objects.filter(action=Action.BULLETIN_ACKNOWLEDGED).count() == 1
    assert AccessEntry.objects.filter(action=Action.BULLETIN_VIEWED, actor_id=adams.pk).count() == 1


def test_an_update_threads_under_the_first_and_reaches_its_recipients(officers, analyst):
    first = services.bulletin_send(sender=analyst, description="white hat", addressees=Addressees(units=["2B11"]))
    update = services.bulletin_send(sender=analyst, description="now on Hargett St", thread=first,
                                    addressees=Addressees(units=["4C22"]))
    assert update.thread == first
    assert recipients(update) == {"adams", "baker"}


def test_expiry_destroys_the_still_unless_saved_to_the_case(officers, analyst, settings):
    settings.BULLETIN_HOURS = 12
    old = services.bulletin_send(sender=analyst, description="old", still=Still(jpeg=jpeg()),
                                 addressees=Addressees(units=["2B11"]))
    kept = services.bulletin_send(sender=analyst, description="kept", still=Still(jpeg=jpeg()),
                                  addressees=Addressees(units=["2B11"]))
    fresh = services.bulletin_send(sender=analyst, description="fresh", still=Still(jpeg=jpeg()),
                                   addressees=Addressees(units=["2B11"]))
    Bulletin.objects.filter(pk__in=[old.pk, kept.pk]).update(expires_at=timezone.now() - timedelta(minutes=1))
    Bulletin.objects.filter(pk=kept.pk).update(media_saved_to_case=True)
    assert services.bulletins_media_purge() == 1
    old.refresh_from_db(), kept.refresh_from_db(), fresh.refresh_from_db()
    assert not old.has_media and old.media_key_wrapped is None and old.media_sealed is None
    assert kept.has_media and fresh.has_media
    with pytest.raises(ValidationError, match="expired and was destroyed"):
        services.media_read(user=officers[0], bulletin=old)
    purge = AccessEntry.objects.get(action=Action.BULLETINS_MEDIA_PURGED)
    assert purge.detail["count"] == 1


def test_saving_the_still_to_the_case_keeps_it_past_expiry_as_evidence(officers, analyst, owner_a, incident):
    from requests_app.models import Clip

    camera = owner_a.cameras.get()
    bulletin = services.bulletin_send(sender=analyst, description="x", incident=incident, addressees=Addressees(
        units=["2B11"]), still=Still(jpeg=jpeg(), camera_code=str(camera.code), owner_code=str(owner_a.code)))
    services.bulletin_media_save(user=analyst, bulletin=bulletin)
    clip = Clip.objects.get(incident=incident)
    assert clip.original_name.startswith("bulletin-still-")
    with pytest.raises(ValidationError, match="already saved"):
        services.bulletin_media_save(user=analyst, bulletin=bulletin)
    Bulletin.objects.filter(pk=bulletin.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.bulletins_media_purge() == 0
    bulletin.refresh_from_db()
    assert bulletin.has_media


def test_only_the_sender_or_a_supervisor_saves_a_still_to_the_case(officers, analyst, owner_a, incident, client):
    from tests.conftest import make_staff

    camera = owner_a.cameras.get()
    bulletin = services.bulletin_send(sender=analyst, description="x", incident=incident, addressees=Addressees(
        units=["2B11"]), still=Still(jpeg=jpeg(), camera_code=str(camera.code), owner_code=str(owner_a.code)))
    for user in (officers[0], make_staff("auditor")):
        client.force_login(user)
        assert client.post(f"/bulletins/{bulletin.code}/save/").status_code == 404
    bulletin.refresh_from_db()
    assert not bulletin.media_saved_to_case
    client.force_login(make_staff("supervisor"))
    response = client.post(f"/bulletins/{bulletin.code}/save/", follow=True)
    assert "The still is saved to case 26-004100" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.media_saved_to_case
