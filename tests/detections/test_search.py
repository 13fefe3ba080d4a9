"""The case's search page: who may search (and see the thumbnails), what goes into the ledger, and a result that
opens the clip at the second it was found."""

import re

import pytest
from django.contrib.auth.models import User

from agencies.models import OutsideAgency
from audit.actions import Action
from audit.models import AccessEntry
from detections import services
from detections.models import Detection
from tests.agencies.conftest import agency_user
from tests.conftest import make_staff
from tests.detections.conftest import SUSPECT

pytestmark = pytest.mark.django_db
WHITE_HAT_BACKPACK = {"kind": "person", "hat": "on", "hat_colour": "white", "bag": "on",
                      "reason": "Robbery suspect: witness says white hat, backpack"}


@pytest.fixture
def indexed(clip):
    services.clip_index(clip_id=clip.pk, max_attempts=3)
    return clip


def _search(client, user, incident, data=None):
    client.force_login(user)
    return client.post(f"/cases/{incident.code}/search/", data or WHITE_HAT_BACKPACK)


def _results(response) -> list[str]:
    return re.findall(r'class="det-open" href="([^"]+)"', response.content.decode())


def test_the_assigned_investigator_finds_the_white_hat_and_backpack_and_it_is_in_the_ledger(
        client, investigator, incident, indexed):
    response = _search(client, investigator, incident)
    assert response.status_code == 200
    (link,) = _results(response)  # the suspect, not the bare-headed passer-by
    entry = AccessEntry.objects.get(action=Action.DETECTIONS_SEARCHED)
    assert entry.actor_label == investigator.username and entry.case_number == incident.case_number
    assert entry.reason == WHITE_HAT_BACKPACK["reason"]
    assert entry.detail["criteria"] == {"kind": "person", "hat": True, "hat_colour": "white", "bag": True}
    assert entry.detail["results"] == 1


def test_open_lands_on_the_clip_at_the_second_the_suspect_was_seen(client, investigator, incident, indexed):
    (link,) = _results(_search(client, investigator, incident))
    seconds = float(link.split("?t=")[1])
    assert SUSPECT.start_s <= seconds <= SUSPECT.start_s + 0.5  # the first sampled frame they are in
    page = client.get(link.replace("&amp;", "&")).content.decode()
    assert f"#t={seconds:g}" in page
    assert f"Opened at {seconds:g} s" in page
    assert AccessEntry.objects.filter(action=Action.CLIP_VIEWED, target_code=str(indexed.code)).count() == 1


def test_other_attributes_narrow_the_search(client, investigator, incident, indexed):
    data = {"kind": "person", "upper_colour": "green", "reason": "checking the passer-by"}
    (link,) = _results(_search(client, investigator, incident, data))
    assert not _results(_search(client, investigator, incident, {**data, "bag": "on"}))
    vehicle = {"kind": "vehicle", "vehicle_colour": "blue", "direction": "right", "reason": "getaway car"}
    assert len(_results(_search(client, investigator, incident, vehicle))) == 1


def test_a_search_without_a_reason_is_refused_and_not_recorded(client, investigator, incident, indexed):
    response = _search(client, investigator, incident, {**WHITE_HAT_BACKPACK, "reason": ""})
    assert response.status_code == 400 and "Write why you are searching" in response.content.decode()
    assert not AccessEntry.objects.filter(action=Action.DETECTIONS_SEARCHED).exists()


def test_bad_input_is_a_message(client, investigator, incident, indexed):
    response = _search(client, investigator, incident, {**WHITE_HAT_BACKPACK, "since": "yesterday-ish",
                                                        "hat_colour": "mauve"})
    body = response.content.decode()
    assert response.status_code == 400 and "is not a date and time" in body and "Unknown colour" in body


def test_the_page_says_what_it_cannot_find(client, investigator, incident, indexed):
    client.force_login(investigator)
    body = client.get(f"/cases/{incident.code}/search/").content.decode()
    assert "What this search can and cannot find" in body and "never looks at faces" in body


@pytest.mark.parametrize("who", ["other_investigator", "analyst", "auditor", "records_officer", "outsider"])
def test_no_one_else_searches_the_case_or_sees_its_thumbnails(client, who, incident, indexed):
    if who == "outsider":
        federal = OutsideAgency.objects.create(name="Federal Bureau of Examples", type=OutsideAgency.Type.FEDERAL,
                                               jurisdiction_state="DC")
        user = agency_user(federal, "agent", with_every_role=True)
    elif who == "other_investigator":  # an investigator, not assigned to this case
        user = User.objects.create_user(username="other", is_staff=True)
        user.groups.set(User.objects.get(username="investigator").groups.all())
    else:
        user = make_staff(who)
    detection = Detection.objects.filter(clip=indexed).first()
    assert _search(client, user, incident).status_code == 404
    assert client.get(f"/detections/{detection.code}/thumbnail.jpg").status_code == 404
    assert not AccessEntry.objects.filter(action__in=(Action.DETECTIONS_SEARCHED,
                                                      Action.DETECTION_THUMBNAIL_VIEWED)).exists()


def test_anonymous_is_sent_to_sign_in(client, incident, indexed):
    detection = Detection.objects.filter(clip=indexed).first()
    assert client.post(f"/cases/{incident.code}/search/", WHITE_HAT_BACKPACK).status_code == 302
    assert client.get(f"/detections/{detection.code}/thumbnail.jpg").status_code == 302


def test_an_analyst_on_the_case_and_a_supervisor_may_search(client, incident, indexed):
    from requests_app import services as requests_services

    analyst, supervisor = make_staff("analyst"), make_staff("supervisor")
    requests_services.incident_investigators_set(incident=incident, users=[*incident.investigators.all(), analyst])
    assert len(_results(_search(client, analyst, incident))) == 1
    assert len(_results(_search(client, supervisor, incident))) == 1


def test_a_thumbnail_is_the_whole_person_and_its_viewing_is_recorded(client, investigator, incident, indexed,
                                                                     camera):
    import cv2
    import numpy as np

    suspect = Detection.objects.get(clip=indexed, hat=True)
    client.force_login(investigator)
    response = client.get(f"/detections/{suspect.code}/thumbnail.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[0] > image.shape[1] * 1.5  # a standing figure, head to feet
    entry = AccessEntry.objects.get(action=Action.DETECTION_THUMBNAIL_VIEWED)
    assert entry.owner_code == str(camera.owner.code) and entry.actor_label == investigator.username


def test_searches_count_in_the_transparency_report(client, investigator, incident, indexed):
    from audit import transparency

    for _ in range(2):
        _search(client, investigator, incident)
    assert transparency.monthly(months=1)[-1]["attribute_searches"] == 2
    assert User.objects.filter(username=investigator.username).exists()


def test_the_time_range_is_the_agencys_local_time_and_keeps_matches_inside_it(client, investigator, incident,
                                                                               indexed):
    from datetime import timedelta

    from django.utils import timezone

    seen = timezone.localtime(timezone.now().replace(microsecond=0))
    Detection.objects.filter(clip=indexed).update(seen_at=seen)
    inside = {**WHITE_HAT_BACKPACK, "since": (seen - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
              "until": (seen + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")}
    assert len(_results(_search(client, investigator, incident, inside))) == 1
    later = {**inside, "since": (seen + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"), "until": ""}
    assert _results(_search(client, investigator, incident, later)) == []
