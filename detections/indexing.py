"""The indexing pipeline of one clip: decode sampled frames from a file object (the decrypting reader: plaintext
never touches the disk), detect, describe, follow across frames; returns what to store. No database here."""

import time
from collections import Counter
from dataclasses import dataclass

import av
import cv2
import numpy as np
from django.conf import settings

from detections import attributes as attrs
from detections.detector import detector_make
from detections.tracking import Track, tracks_follow


class IndexTimeout(Exception):
    """The clip took longer than CONNECT_DETECTIONS_TIMEOUT_S to index."""


@dataclass
class Described:
    """One track, ready to store: its best box as fractions of the frame, times, attributes."""
    kind: str
    t_s: float
    first_s: float
    last_s: float
    box: tuple[float, float, float, float]
    score: float
    upper_colour: str = ""
    lower_colour: str = ""
    hat: bool = False
    hat_colour: str = ""
    bag: bool = False
    vehicle_type: str = ""
    vehicle_colour: str = ""
    direction: str = ""


@dataclass
class IndexResult:
    detector: str
    frames: int
    found: list[Described]


def frames_sampled(source, *, fps: float, width: int):
    """(seconds, BGR frame scaled to `width`) about `fps` times a second; a still is one frame at 0 s. Smaller
    frames are scaled up too: the people detector's window is 128 px tall, and people in a 768x576 camera's
    picture are often 60-100 px (OpenCV's sample vtest.avi: 1 of 6 found as it is, 5 of 6 at 960 wide)."""
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_t = 0.0
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else next_t
            if t + 1e-6 < next_t:
                continue
            next_t = t + 1.0 / fps
            image = frame.to_ndarray(format="bgr24")
            if abs(image.shape[1] - width) > 0.05 * width:
                image = cv2.resize(image, (width, int(image.shape[0] * width / image.shape[1])),
                                   interpolation=cv2.INTER_AREA if image.shape[1] > width else cv2.INTER_LINEAR)
            yield t, image


def index_source(source, *, still: bool = False, detector=None, deadline: float | None = None) -> IndexResult:
    detector = detector or detector_make()
    deadline = deadline or time.monotonic() + settings.DETECTIONS_TIMEOUT_S
    tracks: list[Track] = []
    frames, shape = 0, None
    for t_s, image in frames_sampled(source, fps=settings.DETECTIONS_SAMPLE_FPS, width=settings.DETECTIONS_WIDTH):
        if time.monotonic() > deadline:
            raise IndexTimeout(f"took longer than {settings.DETECTIONS_TIMEOUT_S} s")
        frames += 1
        shape = image.shape
        found = detector.detect(image, still=still)
        moving = getattr(detector, "moving", None)
        described = [attrs.person_attributes(image, item.box, moving) if item.kind == "person"
                     else attrs.vehicle_colour(image, item.box, moving) for item in found]
        tracks_follow(tracks, found, t_s, described)
    if shape is None:
        return IndexResult(detector.name, 0, [])
    return IndexResult(detector.name, frames, [describe(track, shape) for track in tracks if _kept(track, still)])


def _kept(track: Track, still: bool) -> bool:
    """One sampling's box alone in a video is as often a false alarm as a passer-by: a track needs two, or one
    strong one. A still has one frame."""
    return still or len(track.sightings) >= 2 or track.best().found.score >= 1.0


def _vote(values) -> str:
    values = [v for v in values if v]
    return Counter(values).most_common(1)[0][0] if values else ""


def describe(track: Track, shape) -> Described:
    """The track's attributes by vote over its sightings (one frame's shadow or occlusion does not decide)."""
    height, width = shape[:2]
    best = track.best()
    x, y, w, h = best.found.box
    box = (max(x, 0) / width, max(y, 0) / height, min(w, width - max(x, 0)) / width,
           min(h, height - max(y, 0)) / height)
    item = Described(track.kind, round(best.t_s, 2), round(track.sightings[0].t_s, 2), round(track.last.t_s, 2),
                     tuple(round(v, 4) for v in box), round(best.found.score, 3), direction=track.direction())
    if track.kind == "person":
        people = [s.attributes for s in track.sightings if s.attributes is not None]
        item.upper_colour = _vote(p.upper_colour for p in people)
        item.lower_colour = _vote(p.lower_colour for p in people)
        hats = [p for p in people if p.hat]
        item.hat = len(hats) * 2 >= len(people) and bool(hats)
        item.hat_colour = _vote(p.hat_colour for p in hats) if item.hat else ""
        item.bag = sum(p.bag for p in people) * 2 >= len(people) and any(p.bag for p in people)
    else:
        item.vehicle_colour = _vote(s.attributes for s in track.sightings)
        item.vehicle_type = _vote(s.found.vehicle_type for s in track.sightings)
    return item


def crop_at(source, *, t_s: float, box: tuple[float, float, float, float]) -> bytes:
    """A JPEG of the box (fractions of the frame) in the frame nearest `t_s`: the whole body of a person or the
    whole vehicle, as the indexer found it."""
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        if t_s > 0 and stream.time_base:
            container.seek(int(t_s / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time + 1e-3 >= t_s:
                break
        if chosen is None:
            raise ValueError("no frame")
        image = chosen.to_ndarray(format="bgr24")
    height, width = image.shape[:2]
    x, y, w, h = box
    x0, y0 = int(x * width), int(y * height)
    x1, y1 = max(int((x + w) * width), x0 + 1), max(int((y + h) * height), y0 + 1)
    crop = image[y0:y1, x0:x1]
    if crop.shape[0] > 240:
        crop = cv2.resize(crop, (max(int(crop.shape[1] * 240 / crop.shape[0]), 1), 240),
                          interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("could not encode the crop")
    return np.asarray(jpeg).tobytes()
