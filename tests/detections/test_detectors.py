"""The pluggable detector: the setting's choices, the onnx slot's contract (its output rows read into boxes, any
class but people and vehicles dropped), and a model that cannot be loaded failing every clip with a reason."""

import numpy as np
import pytest

from detections import detector, onnx_detector, services
from detections.models import ClipIndex


def test_the_default_detector_is_opencv_and_runs_offline(settings):
    settings.DETECTOR = "opencv"
    assert isinstance(detector.detector_make(), detector.OpenCVDetector)


def test_onnx_rows_become_boxes_in_the_frame_and_other_classes_are_dropped():
    rows = np.array([[[10, 20, 50, 120, 0.9, 0],     # a person
                      [100, 50, 300, 150, 0.8, 1],   # a car
                      [12, 22, 48, 118, 0.5, 0],     # the same person again, weaker: suppressed
                      [5, 5, 30, 30, 0.95, 7],       # a class the contract does not have: dropped
                      [200, 200, 260, 260, 0.1, 4]]], np.float32)  # too weak
    found = onnx_detector.rows_found(rows, scale=0.5)
    assert [(f.kind, f.box, f.vehicle_type) for f in found] == [
        ("person", (20, 40, 80, 200), ""), ("vehicle", (200, 100, 400, 200), "car")]


def test_letterbox_keeps_the_aspect_and_scales_to_the_model_input():
    frame = np.full((720, 1280, 3), 255, np.uint8)
    tensor, scale = onnx_detector.letterbox(frame, 640, 640)
    assert tensor.shape == (1, 3, 640, 640) and scale == 0.5
    assert tensor[0, :, 359, 0].min() == 1.0 and tensor[0, :, 361, 0].max() == 0.0  # padded below the picture


@pytest.mark.django_db
def test_a_missing_model_leaves_every_clip_not_indexed_with_the_reason_and_no_retry(clip, settings, tmp_path):
    settings.DETECTOR = f"onnx:{tmp_path / 'absent.onnx'}"
    with pytest.raises(services.IndexFailed) as failed:
        services.clip_index(clip_id=clip.pk, max_attempts=3)
    assert not failed.value.retry
    index = ClipIndex.objects.get(clip=clip)
    assert index.state == ClipIndex.State.FAILED
    assert "onnxruntime is not installed" in index.reason or "no model file" in index.reason


def test_frames_smaller_than_the_people_window_are_looked_at_without_crashing():
    """OpenCV's HOG ended the whole worker process (a segmentation fault) on a 64x48 clip: such frames skip it."""
    import io

    from detections import indexing
    from tests.requests_app.media import tiny_jpeg, tiny_mp4

    assert indexing.index_source(io.BytesIO(tiny_mp4())).found == []
    assert indexing.index_source(io.BytesIO(tiny_jpeg()), still=True).found == []
