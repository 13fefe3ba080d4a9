"""The pluggable detector: `CONNECT_DETECTOR` = `opencv` (default) or `onnx:/path/model.onnx`.

A detector is made per clip (it may keep state across its frames, as background subtraction does) and answers
`detect(frame_bgr) -> list[Found]` for each sampled frame, boxes in that frame's pixels. It finds people and
vehicles only: no face detector, cascade or model is ever loaded here (tests/detections/test_no_faces.py)."""

from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings


@dataclass
class Found:
    kind: str  # "person" or "vehicle"
    box: tuple[int, int, int, int]  # x, y, w, h in the frame's pixels
    score: float
    vehicle_type: str = ""


class DetectorUnavailable(Exception):
    """The configured detector cannot run (no model file, no onnxruntime): every clip says so, none is half-done."""


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def contained(a, b) -> float:
    """The share of the smaller box inside the other (HOG finds one person at two scales, one box in the other)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    smaller = min(aw * ah, bw * bh)
    return ix * iy / smaller if smaller else 0.0


def _suppress(found: list[Found], overlap: float = 0.45) -> list[Found]:
    """Overlapping boxes of one kind kept once, the best scored."""
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: -f.score):
        if all(other.kind != item.kind or (iou(other.box, item.box) < overlap
                                           and contained(other.box, item.box) < 0.7) for other in kept):
            kept.append(item)
    return kept


class OpenCVDetector:
    """OpenCV's built-in HOG people detector (its SVM ships inside OpenCV: nothing downloaded), plus moving blobs
    from background subtraction that are wider than tall and overlap no person: vehicles."""

    name = "opencv-hog+motion"
    HIT_THRESHOLD = 0.3  # the SVM's margin: below it a pole or a doorway is called a person too often
    WINDOW = (64, 128)  # the people detector's window, width and height
    VEHICLE_MIN_AREA = 0.006  # of the frame: smaller moving blobs are people's limbs, bags, shadows, noise

    def __init__(self):
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._motion = cv2.createBackgroundSubtractorMOG2(history=60, varThreshold=32, detectShadows=False)
        self.moving: np.ndarray | None = None  # the last frame's moving pixels, for the colour stage

    def detect(self, frame: np.ndarray, *, still: bool = False) -> list[Found]:
        height, width = frame.shape[:2]
        if height < self.WINDOW[1] or width < self.WINDOW[0]:
            # Smaller than the detector's window: no person fits (and OpenCV's HOG crashes the process on it).
            return [] if still else _suppress(self._moving_vehicles(frame, []))
        rects, weights = self._hog.detectMultiScale(frame, hitThreshold=self.HIT_THRESHOLD, winStride=(8, 8),
                                                    padding=(16, 16), scale=1.05)
        people = [Found("person", tuple(int(v) for v in rect), float(score))
                  for rect, score in zip(rects, np.ravel(weights), strict=True)]
        vehicles = [] if still else self._moving_vehicles(frame, people)
        return _suppress(people + vehicles)

    def _moving_vehicles(self, frame: np.ndarray, people: list[Found]) -> list[Found]:
        from detections.attributes import vehicle_type

        mask = self._motion.apply(frame)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        self.moving = mask
        height, width = mask.shape
        found = []
        if mask.mean() > 0.5 * 255:  # the first frame, or the picture changed whole (light, a camera moved)
            return found
        contours, _hierarchy = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            box = cv2.boundingRect(contour)
            _x, _y, w, h = box
            if w * h < self.VEHICLE_MIN_AREA * width * height or w < 1.1 * h:
                continue
            if any(iou(box, person.box) > 0.2 for person in people):
                continue
            fill = cv2.contourArea(contour) / (w * h)
            found.append(Found("vehicle", tuple(int(v) for v in box), round(fill, 3), vehicle_type(box)))
        return found


def detector_make():
    """A new detector of the configured kind, for one clip."""
    spec = settings.DETECTOR
    if spec == "opencv":
        return OpenCVDetector()
    if spec.startswith("onnx:"):
        from detections.onnx_detector import OnnxDetector

        return OnnxDetector(spec.removeprefix("onnx:"))
    raise DetectorUnavailable(f"unknown detector {spec!r}")
