"""The agency's own detector model, run with onnxruntime (the optional extra `connect[onnx]`).

The model's contract (docs/DETECTORS.md): one input, float32 NCHW [1, 3, H, W], RGB scaled to 0..1, H and W fixed
by the model (the frame is letterboxed to them); one output [1, N, 6] of rows (x1, y1, x2, y2, score, class) in the
input's pixels, class 0 a person and class 1-4 a car, van/truck, bus, two-wheeler. Nothing else (no face class) is
read: rows of any other class are dropped."""

from pathlib import Path

import cv2
import numpy as np

from detections.detector import DetectorUnavailable, Found, _suppress

CLASSES = {0: ("person", ""), 1: ("vehicle", "car"), 2: ("vehicle", "van_truck"), 3: ("vehicle", "van_truck"),
           4: ("vehicle", "two_wheeler")}
MIN_SCORE = 0.4


class OnnxDetector:
    def __init__(self, path: str):
        if "face" in Path(path).name.lower():
            raise DetectorUnavailable("a face model is never loaded")
        try:
            import onnxruntime
        except ImportError:
            raise DetectorUnavailable("onnxruntime is not installed (pip install 'connect[onnx]')") from None
        if not Path(path).is_file():
            raise DetectorUnavailable(f"no model file at {path}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0]
        _n, _c, self._height, self._width = self._input.shape
        self.name = f"onnx:{Path(path).name}"
        self.moving = None

    def detect(self, frame: np.ndarray, *, still: bool = False) -> list[Found]:
        tensor, scale = letterbox(frame, self._width, self._height)
        rows = self._session.run(None, {self._input.name: tensor})[0]
        return rows_found(rows, scale)


def letterbox(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float]:
    scale = min(width / frame.shape[1], height / frame.shape[0])
    resized = cv2.resize(frame, (int(frame.shape[1] * scale), int(frame.shape[0] * scale)))
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[:resized.shape[0], :resized.shape[1]] = resized
    rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return rgb.transpose(2, 0, 1)[None], scale


def rows_found(rows: np.ndarray, scale: float) -> list[Found]:
    """The model's [1, N, 6] rows as Found boxes in the frame's pixels; unknown classes and low scores dropped."""
    found = []
    for x1, y1, x2, y2, score, klass in np.asarray(rows).reshape(-1, 6):
        if score < MIN_SCORE or int(klass) not in CLASSES:
            continue
        kind, vehicle_type = CLASSES[int(klass)]
        box = (int(x1 / scale), int(y1 / scale), int((x2 - x1) / scale), int((y2 - y1) / scale))
        found.append(Found(kind, box, float(score), vehicle_type))
    return _suppress(found)
