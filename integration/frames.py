"""Frame checks and privacy masks. A frame reaches viewers only as a real JPEG within the size limit,
with every masked region painted black on the server."""

import io
from functools import lru_cache

from PIL import Image, ImageDraw, UnidentifiedImageError

MAX_SIDE = 4096
MASKED_QUALITY = 80


class FrameRejected(Exception):
    """The reason is shown to the connector and recorded, once per `kind` and connection."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.kind = kind


def frame_check(data: bytes, *, max_bytes: int) -> tuple[int, int]:
    """(width, height) of a JPEG frame, reading its header only; raises FrameRejected."""
    if len(data) > max_bytes:
        raise FrameRejected(f"frame of {len(data) // 1024} KB is larger than the {max_bytes // 1024} KB limit",
                            "too_large")
    if not data.startswith(b"\xff\xd8\xff"):
        raise FrameRejected("frame is not a JPEG image", "not_jpeg")
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise FrameRejected("frame is not a readable JPEG image", "unreadable") from exc
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise FrameRejected(f"frame of {width}×{height} pixels is outside the 1–{MAX_SIDE} limit", "dimensions")
    return width, height


def masks_validate(masks: list) -> list[list[list[float]]]:
    """Polygons in fractions of the frame; raises ValueError with what is wrong."""
    if not isinstance(masks, list) or len(masks) > 50:
        raise ValueError("Masks must be a list of at most 50 shapes.")
    clean = []
    for number, points in enumerate(masks, 1):
        if not isinstance(points, list) or not 3 <= len(points) <= 100:
            raise ValueError(f"Shape {number} needs between 3 and 100 corners.")
        try:
            polygon = [[round(float(x), 5), round(float(y), 5)] for x, y in points]
        except (TypeError, ValueError):
            raise ValueError(f"Shape {number} has a corner that is not a pair of numbers.") from None
        if any(not (0 <= v <= 1) for point in polygon for v in point):
            raise ValueError(f"Shape {number} reaches outside the picture.")
        clean.append(polygon)
    return clean


@lru_cache(maxsize=32)  # a camera's frames share one size; few cameras change masks at once
def _mask_image(polygons: tuple, size: tuple[int, int]) -> Image.Image:
    """A 1-bit stencil of the masked regions at this frame size (cached: frames of a camera share a size)."""
    width, height = size
    stencil = Image.new("1", size, 0)
    draw = ImageDraw.Draw(stencil)
    for polygon in polygons:
        # Corners scale to the far pixel edge, so a mask drawn to the border covers the border pixels too.
        draw.polygon([(x * width, y * height) for x, y in polygon], fill=1, outline=1)
    return stencil


def masks_paint(frame: Image.Image, polygons: tuple) -> Image.Image:
    """Paints every polygon black on an RGB picture, in place (the relay's fill), and returns it: for pictures that
    are not a live JPEG frame (a saved still, a clip segment's decoded frames)."""
    if polygons:
        frame.paste((0, 0, 0), mask=_mask_image(polygons, frame.size))
    return frame


def masks_apply(data: bytes, polygons: tuple) -> bytes:
    """The frame re-encoded with every polygon black. `polygons` is a tuple of tuples (hashable)."""
    with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
        frame = image.convert("RGB")
    masks_paint(frame, polygons)
    out = io.BytesIO()
    frame.save(out, format="JPEG", quality=MASKED_QUALITY)
    return out.getvalue()


def polygons_key(masks: list) -> tuple:
    return tuple(tuple((x, y) for x, y in polygon) for polygon in masks)
