"""No faces, ever: no face-recognition or face-embedding library is installed, the indexer loads no face model
(no cascade, no network, no file with "face" in its name), and detections never imports records, whose redaction
of public-records releases is the one place connect may locate a face (to blur it). The live watches' frame check
(detections/live.py) is held to the same: no face model loaded, no face library."""

import ast
import importlib.util
import io
from pathlib import Path

import cv2
import pytest

from detections import indexing, live, synthetic
from detections.detector import detector_make
from tests.detections.conftest import PASSER_BY, SUSPECT

FACE_LIBRARIES = ("face_recognition", "face_recognition_models", "dlib", "deepface", "insightface",
                  "facenet_pytorch", "facenet", "retinaface", "mtcnn", "facexlib", "arcface", "face_alignment",
                  "compreface", "mediapipe", "uniface")
DETECTIONS = Path(__file__).resolve().parents[2] / "detections"


@pytest.mark.parametrize("name", FACE_LIBRARIES)
def test_no_face_recognition_or_embedding_library_is_installed(name):
    # mediapipe ships face detection, mesh and landmarks in one package: none of it is allowed beside connect.
    assert importlib.util.find_spec(name) is None, f"{name} is installed: connect must not ship face recognition"


def test_the_indexer_loads_no_face_model(monkeypatch, settings):
    loaded = []

    def watching(name, original):
        def wrapper(*args, **kwargs):
            loaded.append((name, [str(a) for a in args] + [str(v) for v in kwargs.values()]))
            return original(*args, **kwargs)
        return wrapper

    for name in ("CascadeClassifier", "FaceDetectorYN_create", "FaceRecognizerSF_create"):
        if hasattr(cv2, name):
            monkeypatch.setattr(cv2, name, watching(name, getattr(cv2, name)))
    for name in dir(cv2.dnn):
        if name.startswith("readNet"):
            monkeypatch.setattr(cv2.dnn, name, watching(f"dnn.{name}", getattr(cv2.dnn, name)))
    clip = synthetic.clip_mp4([SUSPECT, PASSER_BY], seconds=2.0)
    result = indexing.index_source(io.BytesIO(clip))
    assert result.found, "the watch must run over a real indexing that finds people"
    assert loaded == [], f"the indexer created {loaded}"
    # The live path too: a live watch's frame goes through the same detector and attributes, and nothing else.
    ok, frame = cv2.imencode(".jpg", synthetic.frame_at(1.5, [SUSPECT, PASSER_BY], [], synthetic.background(960, 540)))
    marks = live.frame_check(frame.tobytes(), {"w": {"kind": "person", "upper_colour": "red"}}, detector_make())
    assert ok and marks, "the watch must run over a real live check that marks someone"
    assert loaded == [], f"the live watch created {loaded}"


def test_detections_never_imports_records_or_names_a_face_model():
    for path in DETECTIONS.rglob("*.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.split(".")[0] == "records" for n in names), f"{path} imports records"
        lowered = source.lower()
        for marker in ("haarcascade", "cascadeclassifier", "facedetectoryn", "facerecognizersf", "lbpcascade"):
            assert marker not in lowered, f"{path} names {marker}"


def test_an_onnx_model_named_for_faces_is_refused(tmp_path):
    from detections.detector import DetectorUnavailable
    from detections.onnx_detector import OnnxDetector

    model = tmp_path / "retina_face_detector.onnx"
    model.write_bytes(b"not a model")
    with pytest.raises(DetectorUnavailable, match="face model is never loaded"):
        OnnxDetector(str(model))
