"""One live frame through the indexer's detector and attribute stage, against the watches' attributes. No database
and no disk: the frame is decoded in memory, checked and dropped; what comes back is boxes and words.

Never faces: the same detector and attributes as the indexer (tests/detections/test_no_faces.py runs this path too).
A frame checks whole people by clothing and carried objects, and vehicles by type and colour; direction needs a
track, so a watch does not ask for it."""

from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings

from detections import attributes as attrs

# The attributes a watch may ask for (Criteria's, less the time range, the cameras and direction).
WATCHED = ("kind", "upper_colour", "lower_colour", "hat", "hat_colour", "bag", "vehicle_type", "vehicle_colour")


@dataclass
class Mark:
    """A match on one frame: the box as fractions of the frame, and what it shows in words."""
    watch: str
    kind: str
    box: tuple[float, float, float, float]
    label: str


@dataclass
class Seen:
    kind: str
    box: tuple[int, int, int, int]
    attributes: dict


def frame_decode(jpeg: bytes) -> np.ndarray:
    """The frame as the indexer samples it: BGR, scaled to CONNECT_DETECTIONS_WIDTH."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("the frame is not a readable JPEG")
    width = settings.DETECTIONS_WIDTH
    if abs(image.shape[1] - width) > 0.05 * width:
        image = cv2.resize(image, (width, int(image.shape[0] * width / image.shape[1])),
                           interpolation=cv2.INTER_AREA if image.shape[1] > width else cv2.INTER_LINEAR)
    return image


def frame_describe(image: np.ndarray, detector) -> list[Seen]:
    found = detector.detect(image)
    moving = getattr(detector, "moving", None)
    if moving is not None and moving.mean() > 0.5 * 255:
        moving = None  # the first frame of a view, or the picture changed whole: outlines from the border instead
    seen = []
    for item in found:
        if item.kind == "person":
            person = attrs.person_attributes(image, item.box, moving)
            seen.append(Seen("person", item.box, dict(person.__dict__)))
        else:
            seen.append(Seen("vehicle", item.box, {"vehicle_type": item.vehicle_type,
                                                   "vehicle_colour": attrs.vehicle_colour(image, item.box, moving)}))
    return seen


def matches(criteria: dict, seen: Seen) -> bool:
    if seen.kind != criteria.get("kind", "person"):
        return False
    got = seen.attributes
    for name in ("upper_colour", "lower_colour", "hat_colour", "vehicle_type", "vehicle_colour"):
        if criteria.get(name) and got.get(name) != criteria[name]:
            return False
    if (criteria.get("hat") or criteria.get("hat_colour")) and not got.get("hat"):
        return False
    return not (criteria.get("bag") and not got.get("bag"))


def label_of(seen: Seen) -> str:
    got = seen.attributes
    if seen.kind == "vehicle":
        return " ".join(v for v in (got.get("vehicle_colour"), (got.get("vehicle_type") or "vehicle").replace("_", " "))
                        if v)
    words = [f"{got['upper_colour']} top" if got.get("upper_colour") else "",
             f"{got['lower_colour']} trousers" if got.get("lower_colour") else "",
             f"{got['hat_colour']} hat" if got.get("hat") else "", "bag" if got.get("bag") else ""]
    return "person: " + ", ".join(w for w in words if w) if any(words) else "person"


def frame_check(jpeg: bytes, watches: dict[str, dict], detector) -> list[Mark]:
    """The marks of one frame for each watch (code -> criteria). Raises whatever the decoder or detector raises:
    the caller pauses the watches and says why."""
    image = frame_decode(jpeg)
    height, width = image.shape[:2]
    marks = []
    for seen in frame_describe(image, detector):
        x, y, w, h = seen.box
        box = (round(max(x, 0) / width, 4), round(max(y, 0) / height, 4), round(min(w, width) / width, 4),
               round(min(h, height) / height, 4))
        marks += [Mark(code, seen.kind, box, label_of(seen)) for code, criteria in watches.items()
                  if matches(criteria, seen)]
    return marks
