"""Redaction on clips with known regions: a real face photo and a rendered licence plate. The regions' pixels
change; the rest of the picture does not."""

import io

import numpy as np

from records import redaction
from tests.records import media

FACE_CENTRE = (70, 76, 65, 65)  # the face itself inside the pasted photo (media.FACE_BOX), where it is detected
EMPTY = (500, 10, 120, 80)  # plain background, far from both


def _region(frame, box):
    x, y, w, h = box
    return frame[y:y + h, x:x + w].astype(int)


def _change(before, after, box) -> float:
    return float(np.abs(_region(after, box) - _region(before, box)).mean())


def _redacted(**kwargs):
    source = media.scene_mp4(frames=6)
    out = io.BytesIO()
    result = redaction.redact_video(io.BytesIO(source), out, **kwargs)
    return media.frames_of(source), media.frames_of(out.getvalue()), result


def test_faces_and_plates_are_found_and_blurred_and_nothing_else_changes():
    before, after, result = _redacted()
    assert len(after) == len(before) == result.frames == 6
    kinds = {box[4] for box in result.keyframes[0]["boxes"]}
    assert kinds == {redaction.FACE, redaction.PLATE}
    for old, new in zip(before, after, strict=True):
        assert _change(old, new, FACE_CENTRE) > 12, "the face must not stay as it was"
        assert _change(old, new, media.plate_box()) > 25, "the plate must not stay readable"
        assert _change(old, new, EMPTY) < 3, "the background is only re-encoded"


def test_a_blurred_plate_is_no_longer_found():
    _, after, _ = _redacted()
    gray = after[0][:, :, 0]
    assert not [box for box in redaction.detect(np.ascontiguousarray(gray)) if box[4] == redaction.PLATE]


def test_a_scene_without_faces_or_plates_only_is_re_encoded():
    source = media.scene_mp4(frames=3, face=False, plate=False)
    out = io.BytesIO()
    result = redaction.redact_video(io.BytesIO(source), out)
    assert result.keyframes[0]["boxes"] == []
    before, after = media.frames_of(source)[0], media.frames_of(out.getvalue())[0]
    assert float(np.abs(after.astype(int) - before.astype(int)).mean()) < 3


def test_privacy_masks_are_black_and_added_boxes_blurred():
    mask = [[0.75, 0.0], [1.0, 0.0], [1.0, 0.25], [0.75, 0.25]]  # the top right corner
    before, after, result = _redacted(polygons=[mask], added=[[0.0, 0.8, 0.1, 0.2]])
    corner = after[0][5:80, 490:635]
    assert corner.max() < 20, "a privacy mask is black, as in the live view"
    assert [0.0, 0.8, 0.1, 0.2, redaction.ADDED] in result.keyframes[0]["boxes"]


def test_whole_frame_blur_changes_every_region():
    before, after, result = _redacted(whole_frame=True)
    assert result.keyframes[0]["boxes"] == [[0.0, 0.0, 1.0, 1.0, redaction.ADDED]]
    assert _change(before[0], after[0], FACE_CENTRE) > 12
    assert _change(before[0], after[0], media.plate_box()) > 25


def test_a_file_that_is_not_video_is_refused_with_a_reason():
    try:
        redaction.redact_video(io.BytesIO(b"not a video at all" * 100), io.BytesIO())
    except redaction.RedactionError as exc:
        assert "could not be decoded" in str(exc)
    else:
        raise AssertionError("no error")
