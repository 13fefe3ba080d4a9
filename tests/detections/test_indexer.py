"""The indexer on a clip of known content: what it finds, where, heading which way; failures leave nothing
half-written and are retried a bounded number of times; detections go with their clip."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from detections import services, synthetic
from detections.detector import OpenCVDetector
from detections.models import ClipIndex, Detection
from requests_app import services as requests_services
from tests.detections.conftest import CAR, PASSER_BY, SUSPECT

pytestmark = pytest.mark.django_db


def _indexed(clip) -> list[Detection]:
    assert services.clip_index(clip_id=clip.pk, max_attempts=3) > 0
    return list(Detection.objects.filter(clip=clip))


def test_an_uploaded_clip_is_queued_for_indexing_with_its_camera(clip, camera):
    index = ClipIndex.objects.get(clip=clip)
    assert index.state == ClipIndex.State.PENDING and index.camera == camera


def test_the_people_are_found_with_their_clothing_hat_bag_and_direction(clip):
    people = [d for d in _indexed(clip) if d.kind == Detection.Kind.PERSON]
    suspect = [d for d in people if d.upper_colour == SUSPECT.upper]
    passer_by = [d for d in people if d.upper_colour == PASSER_BY.upper]
    assert len(suspect) == 1 and len(passer_by) == 1, [(d.upper_colour, d.t_s) for d in people]
    suspect, passer_by = suspect[0], passer_by[0]
    assert (suspect.lower_colour, suspect.hat, suspect.hat_colour, suspect.bag, suspect.direction) == (
        "blue", True, "white", True, "right")
    assert (passer_by.lower_colour, passer_by.hat, passer_by.bag, passer_by.direction) == (
        "black", False, False, "left")
    # Seen when they were in the picture, and boxed where they were then.
    assert SUSPECT.start_s <= suspect.t_s <= SUSPECT.end_s
    assert PASSER_BY.start_s <= passer_by.first_s
    centre = (SUSPECT.x + SUSPECT.dx * (suspect.t_s - SUSPECT.start_s)) / 1280
    assert suspect.x < centre < suspect.x + suspect.w


def test_the_moving_car_is_found_with_its_colour_and_direction(clip):
    vehicles = [d for d in _indexed(clip) if d.kind == Detection.Kind.VEHICLE]
    assert [(v.vehicle_colour, v.vehicle_type, v.direction) for v in vehicles] == [(CAR.colour, "car", "right")]


def test_indexing_is_recorded_for_the_owner(clip, camera):
    _indexed(clip)
    entry = AccessEntry.objects.get(action=Action.DETECTIONS_INDEXED)
    assert entry.camera_code == str(camera.code) and entry.detail["people"] == 2 and entry.detail["vehicles"] == 1
    assert ClipIndex.objects.get(clip=clip).state == ClipIndex.State.INDEXED


def test_nothing_is_written_to_disk_in_plain_text_while_indexing(clip, evidence_dir, street_clip, tmp_path):
    before = {p: p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()}
    _indexed(clip)
    after = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert set(after) == set(before)
    assert all(street_clip[1000:1064] not in p.read_bytes() for p in after)


def test_a_crashing_detector_leaves_the_clip_not_indexed_with_its_reason_and_is_retried_a_bounded_number_of_times(
        clip, monkeypatch):
    calls = []

    def crash(self, frame, *, still=False):
        calls.append(1)
        if len(calls) > 3:  # a few frames in: what was found so far must not be kept
            raise RuntimeError("detector fell over")
        return original(self, frame, still=still)

    original = OpenCVDetector.detect
    monkeypatch.setattr(OpenCVDetector, "detect", crash)
    for _attempt in (1, 2):
        with pytest.raises(services.IndexFailed) as failed:
            services.clip_index(clip_id=clip.pk, max_attempts=3)
        assert failed.value.retry
        calls.clear()
    with pytest.raises(services.IndexFailed) as failed:
        services.clip_index(clip_id=clip.pk, max_attempts=3)
    assert not failed.value.retry  # the third attempt was the last
    index = ClipIndex.objects.get(clip=clip)
    assert (index.state, index.attempts) == (ClipIndex.State.FAILED, 3)
    assert "detector fell over" in index.reason
    assert not Detection.objects.filter(clip=clip).exists()
    assert services.clip_index(clip_id=clip.pk, max_attempts=3) == 0  # no fourth attempt
    assert AccessEntry.objects.filter(action=Action.DETECTIONS_INDEX_FAILED).count() == 3


def test_a_clip_taking_too_long_is_not_indexed_and_says_why(clip, settings):
    settings.DETECTIONS_TIMEOUT_S = 0
    with pytest.raises(services.IndexFailed):
        services.clip_index(clip_id=clip.pk, max_attempts=3)
    index = ClipIndex.objects.get(clip=clip)
    assert index.state == ClipIndex.State.FAILED and "longer than" in index.reason
    assert not Detection.objects.filter(clip=clip).exists()


def test_detections_are_purged_with_their_clip(clip, incident):
    _indexed(clip)
    incident.status, incident.closed_at = "closed", timezone.now() - timedelta(days=400)
    incident.save()
    assert requests_services.clips_expired_purge() == 1
    assert not Detection.objects.filter(clip=clip).exists()
    assert ClipIndex.objects.get(clip=clip).state == ClipIndex.State.PURGED
    entry = AccessEntry.objects.get(action=Action.DETECTIONS_PURGED)
    assert entry.detail["detections"] == 3 and entry.target_code == str(clip.code)


def test_a_saved_still_is_indexed_too(incident, investigator, camera):
    jpeg = synthetic.still_jpeg([synthetic.Figure("red", "blue", hat="white", bag=True)])
    still = requests_services.still_store(incident=incident, camera=camera, jpeg=jpeg, user=investigator,
                                          name="still.jpg", session_code="s1")
    (person,) = _indexed(still)
    assert (person.kind, person.upper_colour, person.hat_colour, person.bag, person.t_s) == (
        "person", "red", "white", True, 0.0)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_indexes_the_clip_once_its_upload_commits(celery_worker, client, street_clip):
    from tests.conftest import make_staff, wait_for
    from tests.registry.factories import CameraFactory, OwnerFactory
    from tests.requests_app.conftest import clip_uploaded
    from tests.requests_app.factories import IncidentFactory

    make_staff("investigator")
    incident = IncidentFactory()
    camera = CameraFactory(owner=OwnerFactory(email="worker@example.org"))
    clip = clip_uploaded(client, incident, camera, name="street.mp4", video=street_clip)
    wait_for(lambda: ClipIndex.objects.get(clip=clip).state == ClipIndex.State.INDEXED, timeout=120,
             what="the worker indexed the clip")
    assert Detection.objects.filter(clip=clip, hat_colour="white", bag=True).count() == 1


def test_a_clip_whose_worker_died_at_every_attempt_is_not_indexed_with_that_reason(clip):
    """A detector that ends the worker process leaves the clip "running"; the task comes back (acks_late) and
    each claim is an attempt: after the last, the clip says why it is not indexed instead of waiting forever."""
    ClipIndex.objects.filter(clip=clip).update(state=ClipIndex.State.RUNNING, attempts=3)
    assert services.clip_index(clip_id=clip.pk, max_attempts=3) == 0
    index = ClipIndex.objects.get(clip=clip)
    assert index.state == ClipIndex.State.FAILED and "stopped before it finished" in index.reason


def test_a_worker_that_cannot_find_the_clips_shred_key_leaves_the_clip_whole(clip, settings, tmp_path, evidence_dir):
    """A worker whose key store is not the web's (a mount missing on that machine) fails to index; it never marks
    the clip purged nor removes its file, as a person's read of a clip whose key is truly gone does."""
    from requests_app.models import Clip

    stored = [path for path in evidence_dir.rglob("*") if path.is_file()]
    ClipIndex.objects.filter(clip=clip).update(state=ClipIndex.State.PENDING, attempts=0)
    settings.KEY_STORE_DIR = tmp_path / "another-machines-keys"
    settings.KEY_STORE_DIR.mkdir()
    with pytest.raises(services.IndexFailed):
        services.clip_index(clip_id=clip.pk, max_attempts=3)
    clip = Clip.objects.get(pk=clip.pk)
    assert clip.purged_at is None and clip.wrapped_key is not None
    assert stored and all(path.exists() for path in stored)
    assert not AccessEntry.objects.filter(action=Action.CLIP_PURGED, target_code=str(clip.code)).exists()


def test_a_clip_whose_worker_was_killed_at_its_hard_time_limit_says_why_and_is_recorded(clip):
    """A detector stuck inside OpenCV never reaches its deadline check: the pool kills the worker at the task's hard
    time limit, and Celery (5.7) calls the task's on_failure in the main process with TimeLimitExceeded, after
    acknowledging the message. The clip must not stay "running" for ever."""
    from celery.exceptions import TimeLimitExceeded
    from django.conf import settings

    from detections.tasks import HARD_LIMIT_GRACE_S, clip_index_task

    assert clip_index_task.time_limit == settings.DETECTIONS_TIMEOUT_S + HARD_LIMIT_GRACE_S
    ClipIndex.objects.filter(clip=clip).update(state=ClipIndex.State.RUNNING, attempts=1)
    clip_index_task.on_failure(ValueError("another failure"), "task-1", (clip.pk,), {}, None)
    assert ClipIndex.objects.get(clip=clip).state == ClipIndex.State.RUNNING  # only the hard limit is handled here
    clip_index_task.on_failure(TimeLimitExceeded(660), "task-1", (clip.pk,), {}, None)
    index = ClipIndex.objects.get(clip=clip)
    assert index.state == ClipIndex.State.FAILED
    assert index.reason == f"the indexer stopped answering and was stopped after {clip_index_task.time_limit} s"
    failed = AccessEntry.objects.filter(action=Action.DETECTIONS_INDEX_FAILED, target_code=str(clip.code)).get()
    assert "stopped answering" in failed.reason
