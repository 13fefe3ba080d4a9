"""Redacting video for release: owners' privacy masks blacked out, faces and licence plates blurred where OpenCV's
Haar cascades locate them, the officer's own boxes blurred, or every frame blurred whole.

Detection only: a cascade says where a face-like or plate-like region is, never whose face or which plate; the
regions (fractions of the frame) are all that is kept, to show the officer what was blurred. Audio is dropped: it
is not reviewed, and voices say names."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import av
import cv2
import numpy as np

FACE = "face"
PLATE = "plate"
ADDED = "added"
CASCADES = {FACE: ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml"),
            PLATE: ("haarcascade_russian_plate_number.xml",)}
MARGIN = 0.2  # a detection's box grows by this much on every side: hair, chin and plate frames go too
MOSAIC = 8  # the blurred region keeps at most this many blocks across: nothing in it stays readable
KEYFRAME_EVERY_S = 1.0


class RedactionError(Exception):
    """The clip could not be redacted; the message says why, for the officer."""


@dataclass
class Result:
    width: int
    height: int
    frames: int
    keyframes: list[dict] = field(default_factory=list)  # {"t": seconds, "boxes": [[x, y, w, h, kind], ...]}


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if classifier.empty():
        raise RedactionError(f"the detector {name} is missing from this OpenCV")
    return classifier


def detect(gray: np.ndarray) -> list[tuple[int, int, int, int, str]]:
    """Faces and plates in one grey frame, as pixel boxes (x, y, w, h, kind). Tuned to find rather than to miss:
    a stray blur costs little, a face left readable costs much."""
    found = []
    smallest = max(24, min(gray.shape) // 25)
    for kind, names in CASCADES.items():
        for name in names:
            for x, y, w, h in _cascade(name).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3,
                                                              minSize=(smallest, smallest)):
                found.append((int(x), int(y), int(w), int(h), kind))
    return found


def _grown(box, width: int, height: int) -> tuple[int, int, int, int]:
    x, y, w, h = box[:4]
    dx, dy = int(w * MARGIN), int(h * MARGIN)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    return x0, y0, min(width, x + w + dx) - x0, min(height, y + h + dy) - y0


def blur(image: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Mosaic then smooth the region in place: blocks too coarse to read, edges soft."""
    x, y, w, h = box
    if w < 2 or h < 2:
        return
    region = image[y:y + h, x:x + w]
    size = (max(1, min(MOSAIC, w // 4)), max(1, min(MOSAIC, h // 4)))
    blocks = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
    kernel = max(3, (min(w, h) // 4) | 1)
    image[y:y + h, x:x + w] = cv2.GaussianBlur(mosaic, (kernel, kernel), 0)


def mask(image: np.ndarray, polygons: Iterable) -> None:
    """Owners' privacy masks (polygons in fractions of the frame) filled black, as the live view shows them."""
    height, width = image.shape[:2]
    for polygon in polygons:
        points = np.array([[round(x * width), round(y * height)] for x, y in polygon], dtype=np.int32)
        cv2.fillPoly(image, [points], (0, 0, 0))


DETECT_EVERY = 4  # frames between detections; the frames between get both neighbours' boxes
DETECT_WIDTH = 960  # larger frames are scanned scaled down to this width (a face 30 px wide there is still found)


def regions(image: np.ndarray) -> list[tuple[int, int, int, int, str]]:
    """The grown pixel boxes of the faces and plates in one RGB frame."""
    height, width = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = 1.0
    if width > DETECT_WIDTH:
        scale = width / DETECT_WIDTH
        gray = cv2.resize(gray, (DETECT_WIDTH, round(height / scale)), interpolation=cv2.INTER_AREA)
    return [(*_grown([round(v * scale) for v in box[:4]], width, height), box[4]) for box in detect(gray)]


def redact_frame(image: np.ndarray, boxes, *, polygons=(), added=(), whole_frame: bool = False) -> list:
    """Redacts one RGB frame in place: masks, then `boxes` (pixels) and `added` (fractions) blurred, or the whole
    frame. Returns the boxes blurred, in fractions: [x, y, w, h, kind]."""
    height, width = image.shape[:2]
    mask(image, polygons)
    if whole_frame:
        blur(image, (0, 0, width, height))
        return [[0.0, 0.0, 1.0, 1.0, ADDED]]
    boxes = list(boxes) + [(round(x * width), round(y * height), round(w * width), round(h * height), ADDED)
                           for x, y, w, h in added]
    for box in boxes:
        blur(image, box[:4])
    return [[round(x / width, 4), round(y / height, 4), round(w / width, 4), round(h / height, 4), kind]
            for x, y, w, h, kind in boxes]


class _Encoder:
    """Redacts frames in groups: detection runs on every DETECT_EVERY-th frame, and each frame is blurred with the
    boxes of the detections either side of it, so a face that moves between two detections is covered in both
    places."""

    def __init__(self, writer, rate, *, polygons, added, whole_frame):
        self.writer, self.rate = writer, rate
        self.options = {"polygons": polygons, "added": added, "whole_frame": whole_frame}
        self.stream = None
        self.result = None
        self.waiting: list[np.ndarray] = []  # frames after the last detection, waiting for the next
        self.last_boxes: list = []
        self.next_keyframe = 0.0

    def add(self, image: np.ndarray) -> None:
        if self.stream is None:
            # H.264 in yuv420p wants even sizes: one column or row may go.
            width, height = image.shape[1] & ~1, image.shape[0] & ~1
            self.stream = self.writer.add_stream("libx264", rate=self.rate)
            self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
            self.stream.options = {"crf": "20", "preset": "veryfast"}
            self.result = Result(width=width, height=height, frames=0)
        image = np.ascontiguousarray(image[:self.result.height, :self.result.width])
        if self.result.frames == 0 and not self.waiting:
            self.last_boxes = [] if self.options["whole_frame"] else regions(image)
            self._write(image, self.last_boxes)
            return
        self.waiting.append(image)
        if len(self.waiting) == DETECT_EVERY:
            self._flush()

    def _flush(self) -> None:
        if not self.waiting:
            return
        boxes = [] if self.options["whole_frame"] else regions(self.waiting[-1])
        both = self.last_boxes + boxes
        for image in self.waiting[:-1]:
            self._write(image, both)
        self._write(self.waiting[-1], boxes)
        self.waiting, self.last_boxes = [], boxes

    def _write(self, image: np.ndarray, boxes) -> None:
        blurred = redact_frame(image, boxes, **self.options)
        seconds = self.result.frames / float(self.rate)
        if seconds >= self.next_keyframe:
            self.result.keyframes.append({"t": round(seconds, 3), "boxes": blurred})
            self.next_keyframe += KEYFRAME_EVERY_S
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.result.frames
        frame.time_base = 1 / Fraction(self.rate)
        for packet in self.stream.encode(frame):
            self.writer.mux(packet)
        self.result.frames += 1

    def finish(self) -> Result:
        if self.stream is None:
            raise RedactionError("the clip has no frame that decodes")
        self._flush()
        for packet in self.stream.encode():
            self.writer.mux(packet)
        return self.result


def redact_video(source, target, *, polygons=(), added=(), whole_frame: bool = False) -> Result:
    """Reads the video in the file-like `source`, writes it redacted to the seekable `target` as H.264 in MP4."""
    try:
        with av.open(source, mode="r") as reader:
            if not reader.streams.video:
                raise RedactionError("the clip holds no video")
            stream = reader.streams.video[0]
            rate = stream.average_rate or Fraction(24)
            with av.open(target, mode="w", format="mp4") as writer:
                encoder = _Encoder(writer, rate, polygons=polygons, added=added, whole_frame=whole_frame)
                for frame in reader.decode(stream):
                    encoder.add(frame.to_ndarray(format="rgb24"))
                return encoder.finish()
    except av.FFmpegError as exc:
        raise RedactionError(f"the video could not be decoded or encoded ({exc.__class__.__name__})") from exc


def keyframe_image(source, *, at: float, boxes: list) -> bytes:
    """The redacted output's frame at `at` seconds as a JPEG, with the blurred boxes outlined for review."""
    with av.open(source, mode="r") as reader:
        stream = reader.streams.video[0]
        rate = float(stream.average_rate or 24)
        image = None
        for index, frame in enumerate(reader.decode(stream)):
            image = frame.to_ndarray(format="rgb24")
            if index / rate >= at:
                break
    if image is None:
        raise RedactionError("the redacted clip has no frame")
    height, width = image.shape[:2]
    colours = {FACE: (255, 64, 64), PLATE: (255, 200, 0), ADDED: (64, 160, 255)}
    image = np.ascontiguousarray(image)
    for x, y, w, h, kind in boxes:
        cv2.rectangle(image, (round(x * width), round(y * height)),
                      (round((x + w) * width) - 1, round((y + h) * height) - 1), colours.get(kind, (255, 255, 255)), 2)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return jpeg.tobytes()
