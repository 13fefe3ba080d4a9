"""Clip segment bulletins: an evidence clip's segment re-encoded for phones by the worker, sealed like a still, and
the bulletin sent only once the segment is made; bad points, a corrupt clip or a worker killed at every attempt
leave it unsent with the reason on the sender's page; the owner's history; expiry destroys the segment."""

import io

import av
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from bulletins import clip_segments, segment, services
from bulletins.models import Bulletin, Recipient
from bulletins.selectors import bulletin_readable, bulletins_received
from bulletins.services import Addressees
from registry.owner_history import history_rows
from tests.bulletins.conftest import case_clip

pytestmark = pytest.mark.django_db


def compose(analyst, clip, *, in_s=1.0, out_s=3.5, **kwargs):
    return clip_segments.bulletin_clip_compose(sender=analyst, description="white hat, heading north",
                                               addressees=Addressees(units=["2B11"]), clip_code=clip.code,
                                               in_s=in_s, out_s=out_s, **kwargs)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_segment_is_made_for_phones_sealed_and_only_then_sent(officers, analyst, clip_of_case, owner_a,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        bulletin = compose(analyst, clip_of_case)
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.PREPARING and len(queued) == 1
    assert not Recipient.objects.exists() and bulletin_readable(user=officers[0], code=bulletin.code) is None
    assert bulletins_received(user=officers[0]) == []
    assert not AccessEntry.objects.filter(action=Action.BULLETIN_SENT).exists()

    queued[0]()  # the task, run eagerly
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.SENT and bulletin.media_type == "video/mp4"
    assert {r.user.username for r in bulletin.recipients.select_related("user")} == {"adams"}
    assert b"ftyp" not in bytes(bulletin.media_sealed) and b"moov" not in bytes(bulletin.media_sealed)
    mp4 = services.media_read(user=officers[0], bulletin=bulletin)
    assert mp4.find(b"moov") < mp4.find(b"mdat")  # faststart: a phone plays before the whole file arrives
    with av.open(io.BytesIO(mp4)) as played:
        video = played.streams.video[0]
        assert video.codec_context.name == "h264" and (video.width, video.height) == (640, 360)
        assert not played.streams.audio
        frames = [frame.time for frame in played.decode(video)]
    assert 20 <= len(frames) <= 26 and frames[-1] < 2.5  # 2.5 s at the source's 10 fps
    assert bulletins_received(user=officers[0])[0][0] == bulletin
    assert bulletin.case_number == "26-004100"

    rows = history_rows(owner=owner_a)
    shared = [row for row in rows if "shared a clip segment from your camera with patrol units" in row["what"]]
    assert len(shared) == 1 and shared[0]["case"] == "26-004100"
    assert "white hat" not in str(rows) and "adams" not in str(rows)


def test_bad_points_are_refused_before_anything_is_made(officers, analyst, clip_of_case, settings):
    settings.BULLETIN_CLIP_MAX_S = 2
    for in_s, out_s, message in [(3, 2, "The out point must come after the in point."),
                                 (0, 2.5, "A segment lasts at most 2 seconds."),
                                 (7, 8, "the in point is past its end"),
                                 (None, 2, "Give the segment's in and out points")]:
        with pytest.raises(ValidationError) as refused:
            compose(analyst, clip_of_case, in_s=in_s, out_s=out_s)
        assert message in " ".join(refused.value.messages)
    assert not Bulletin.objects.exists()


def test_a_corrupt_clip_fails_with_a_clear_message_and_sends_nothing(officers, analyst, incident, owner_a,
                                                                     clip_of_case, django_capture_on_commit_callbacks):
    broken = case_clip(incident, owner_a.cameras.get(), b"\x00\x00\x00\x18ftypmp42" + b"junk" * 4000)
    with django_capture_on_commit_callbacks(execute=True):
        bulletin = compose(analyst, broken)
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.FAILED and "could not be read as video" in bulletin.failure
    assert not Recipient.objects.exists() and not bulletin.has_media
    assert not AccessEntry.objects.filter(action__in=[Action.BULLETIN_SENT, Action.BULLETIN_CLIP_SHARED]).exists()
    assert AccessEntry.objects.filter(action=Action.BULLETIN_SEGMENT_FAILED).exists()
    page = signed_in(analyst).get(f"/bulletins/{bulletin.code}/").content.decode()
    assert "Not sent to anyone: The clip could not be read as video" in page
    assert signed_in(officers[0]).get(f"/bulletins/{bulletin.code}/clip.mp4").status_code == 404


def test_points_past_the_pictures_fail_with_a_clear_message(officers, analyst, incident, owner_a, street_mp4,
                                                            clip_of_case, django_capture_on_commit_callbacks):
    longer_on_paper = case_clip(incident, owner_a.cameras.get(), street_mp4, duration_s=30)  # the probe was wrong
    with django_capture_on_commit_callbacks(execute=True):
        bulletin = compose(analyst, longer_on_paper, in_s=20, out_s=25)
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.FAILED
    assert bulletin.failure == "The clip holds no picture between 20 s and 25 s."


def test_a_worker_killed_at_every_attempt_leaves_a_message_not_a_wait(officers, analyst, clip_of_case):
    bulletin = compose(analyst, clip_of_case)  # its task not run: the worker died, acks_late brought it back
    Bulletin.objects.filter(pk=bulletin.pk).update(transcode_attempts=clip_segments.MAX_ATTEMPTS)
    assert clip_segments.bulletin_segment_make(bulletin_id=bulletin.pk) == Bulletin.State.FAILED
    bulletin.refresh_from_db()
    assert bulletin.failure == "The worker stopped while re-encoding the segment, at every attempt."
    assert not Recipient.objects.exists()
    assert clip_segments.bulletin_segment_make(bulletin_id=bulletin.pk) == "gone"  # a late copy changes nothing


def test_a_clip_of_a_case_the_sender_may_not_view_reads_as_not_found(officers, analyst, owner_a, street_mp4):
    from tests.requests_app.factories import IncidentFactory

    strangers = case_clip(IncidentFactory(case_number="26-009999"), owner_a.cameras.get(), street_mp4)
    with pytest.raises(ValidationError, match="No evidence clip with that code in a case you may view."):
        compose(analyst, strangers)
    assert not Bulletin.objects.exists()
    assert not AccessEntry.objects.filter(action=Action.BULLETIN_SEGMENT_REQUESTED).exists()


def test_composed_on_the_page_the_sender_is_told_it_is_being_made(officers, analyst, clip_of_case):
    client = signed_in(analyst)
    response = client.post("/bulletins/new/", {"description": "white hat", "priority": "urgent", "units": "2B11",
                                               "clip": str(clip_of_case.code), "clip_in": "1", "clip_out": "0.5"})
    assert "The out point must come after the in point." in response.content.decode()
    assert not Bulletin.objects.exists()
    response = client.post("/bulletins/new/", {"description": "white hat", "priority": "urgent", "units": "2B11",
                                               "clip": str(clip_of_case.code), "clip_in": "1", "clip_out": "2"},
                           follow=True)
    page = response.content.decode()
    assert "Making the clip segment (1–2 s): nobody has this bulletin yet." in page
    assert Bulletin.objects.get().incident == clip_of_case.incident


def test_expiry_destroys_the_segment(officers, analyst, clip_of_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        bulletin = compose(analyst, clip_of_case)
    assert services.bulletins_media_purge(now=timezone.now()) == 0
    Bulletin.objects.filter(pk=bulletin.pk).update(expires_at=timezone.now())
    assert services.bulletins_media_purge() == 1
    bulletin.refresh_from_db()
    assert not bulletin.has_media and bulletin.media_sealed is None and bulletin.media_key_wrapped is None
    with pytest.raises(ValidationError, match="clip segment has expired and was destroyed"):
        services.media_read(user=officers[0], bulletin=bulletin)
    with pytest.raises(ValidationError, match="already evidence of the case"):
        services.bulletin_media_save(user=analyst, bulletin=bulletin)


def test_the_faststart_rewrite_keeps_every_frame(street_mp4):
    mp4 = segment.transcode(io.BytesIO(street_mp4), in_s=0, out_s=6)
    with av.open(io.BytesIO(mp4)) as played:
        assert sum(1 for _ in played.decode(video=0)) == 60


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_segment_once_the_compose_commits(celery_worker, officers, analyst, clip_of_case):
    from tests.conftest import wait_for

    bulletin = compose(analyst, clip_of_case)
    wait_for(lambda: Bulletin.objects.get(pk=bulletin.pk).state != Bulletin.State.PREPARING, timeout=60,
             what="the worker to make the segment")
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.SENT and bulletin.transcode_attempts == 1
    assert {r.user.username for r in bulletin.recipients.select_related("user")} == {"adams"}


def two_colour_mp4(seconds: float = 3.0, fps: int = 10, size=(320, 240)) -> bytes:
    """A clip whose left half is red and right half green, every frame."""
    import numpy as np

    width, height = size
    picture = np.zeros((height, width, 3), dtype=np.uint8)
    picture[:, : width // 2] = (220, 20, 20)
    picture[:, width // 2:] = (20, 200, 20)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(int(seconds * fps)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def test_every_frame_of_the_segment_carries_the_cameras_privacy_masks(officers, analyst, incident, owner_a,
                                                                       django_capture_on_commit_callbacks):
    from guardian.shortcuts import assign_perm

    from integration.models import PrivacyMask

    camera = owner_a.cameras.get()
    PrivacyMask.objects.create(camera=camera, points=[[0, 0], [0.5, 0], [0.5, 1], [0, 1]])  # the red half
    assign_perm("requests_app.view_incident", analyst, incident)
    clip = case_clip(incident, camera, two_colour_mp4(), duration_s=3.0)
    with django_capture_on_commit_callbacks() as queued:
        bulletin = compose(analyst, clip, in_s=0.5, out_s=2.5)
    queued[0]()
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.SENT
    with av.open(io.BytesIO(services.media_read(user=officers[0], bulletin=bulletin))) as played:
        pictures = [frame.to_ndarray(format="rgb24") for frame in played.decode(played.streams.video[0])]
    assert len(pictures) >= 15
    for picture in pictures:
        height, width, _ = picture.shape
        masked, open_half = picture[:, : width // 2 - 8], picture[:, width // 2 + 8:]
        assert masked.max() < 40  # the mask's black fill, not a red pixel left
        assert open_half[..., 1].mean() > 150 and open_half[..., 0].mean() < 80  # the street beside it, unmasked
