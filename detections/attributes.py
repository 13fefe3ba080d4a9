"""Attributes of a box found by the detector: clothing colours, hat and bag for people; colour for vehicles.

Bands of the figure's own silhouette (pixels unlike the box's border, or moving pixels in a video), top down: the hat
band (top 7 %), upper body (18-50 %), lower body (55-95 %). Nothing is measured in the face: the head band is only
compared with skin tones to tell a hat from bare hair, and nothing of it is kept."""

from dataclasses import dataclass

import cv2
import numpy as np

from detections import colours

HAT_BAND = (0.0, 0.07)
UPPER_BAND = (0.18, 0.50)
LOWER_BAND = (0.55, 0.95)
# A second colour at the side of the upper body, unlike the clothing, over this share of it: a bag or backpack.
BAG_SHARE = 0.08
# Hair and bare heads are these: a hat of these colours is not told from hair (docs/BENCHMARKS.md says so).
NOT_A_HAT = {"black", "brown", ""}


@dataclass
class PersonAttributes:
    upper_colour: str = ""
    lower_colour: str = ""
    hat: bool = False
    hat_colour: str = ""
    bag: bool = False


def _silhouette(crop: np.ndarray, moving: np.ndarray | None) -> np.ndarray:
    """A mask of the figure: the moving pixels if given and enough, else the pixels unlike the crop's border."""
    if moving is not None and moving.mean() > 0.08 * 255:
        return moving > 0
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]).astype(np.int16)
    background = np.median(border, axis=0)
    distance = np.abs(crop.astype(np.int16) - background).sum(axis=2)
    mask = (distance > 40).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0


def _band(mask: np.ndarray, top: int, height: int, band: tuple[float, float]) -> slice:
    return slice(top + int(band[0] * height), top + max(int(band[1] * height), int(band[0] * height) + 1))


def person_attributes(frame_bgr: np.ndarray, box: tuple[int, int, int, int],
                      moving: np.ndarray | None = None) -> PersonAttributes:
    x, y, w, h = box
    crop = frame_bgr[max(y, 0):y + h, max(x, 0):x + w]
    if crop.size == 0:
        return PersonAttributes()
    mask = _silhouette(crop, None if moving is None else moving[max(y, 0):y + h, max(x, 0):x + w])
    rows = np.flatnonzero(mask.sum(axis=1) > max(2, 0.04 * mask.shape[1]))
    if len(rows) < 10:
        return PersonAttributes()
    top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)  # the figure's own extent inside the box
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    found = PersonAttributes()

    def pixels(band):
        rows_ = _band(mask, top, height, band)
        return hsv[rows_][mask[rows_]], rows_

    upper, upper_rows = pixels(UPPER_BAND)
    found.upper_colour, _share = colours.dominant(upper)
    found.lower_colour, _share = colours.dominant(pixels(LOWER_BAND)[0])
    hat_pixels, _rows = pixels(HAT_BAND)
    if len(hat_pixels) >= 6:
        covering = hat_pixels[~colours.is_skin(hat_pixels)]
        colour, share = colours.dominant(covering, min_pixels=6)
        if colour not in NOT_A_HAT and len(covering) >= 0.6 * len(hat_pixels) and share >= 0.5:
            found.hat, found.hat_colour = True, colour
    found.bag = _carries_bag(hsv[upper_rows], mask[upper_rows], found.upper_colour)
    return found


def _carries_bag(hsv_band: np.ndarray, mask_band: np.ndarray, clothing: str) -> bool:
    """A patch of another colour (not the clothing, not skin) on the outer third of the upper body."""
    if not clothing or mask_band.sum() < 30:
        return False
    names = colours.names_of(hsv_band.reshape(-1, 3)).reshape(mask_band.shape)
    other = mask_band & (names != colours.COLOURS.index(clothing))
    other &= ~colours.is_skin(hsv_band.reshape(-1, 3)).reshape(mask_band.shape)
    if other.sum() < BAG_SHARE * mask_band.sum():
        return False
    columns = np.flatnonzero(mask_band.any(axis=0))
    left, right = columns[0], columns[-1]
    third = max((right - left) / 3, 1)
    xs = np.nonzero(other)[1]
    outer = (xs <= left + third) | (xs >= right - third)
    return bool(outer.mean() > 0.6)


def vehicle_colour(frame_bgr: np.ndarray, box: tuple[int, int, int, int], moving: np.ndarray | None = None) -> str:
    """The body colour: the central part of the box (windows and wheels are mostly at its edges)."""
    x, y, w, h = box
    crop = frame_bgr[max(y + h // 5, 0):y + h - h // 4, max(x + w // 6, 0):x + w - w // 6]
    if crop.size == 0:
        return ""
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV).reshape(-1, 3)
    if moving is not None:
        mask = moving[max(y + h // 5, 0):y + h - h // 4, max(x + w // 6, 0):x + w - w // 6].reshape(-1) > 0
        if mask.mean() > 0.3:
            hsv = hsv[mask]
    return colours.dominant(hsv)[0]


def vehicle_type(box: tuple[int, int, int, int]) -> str:
    """From the box's shape alone: a wide low box is a car, a tall-ish large one a van or truck, a small one that is
    about as tall as wide a two-wheeler. Coarse; a supplied model (onnx) can say better."""
    _x, _y, w, h = box
    aspect = w / max(h, 1)
    if aspect < 1.25:
        return "two_wheeler" if w * h < 12000 else "van_truck"
    return "car" if aspect >= 1.5 else "van_truck"
