"""Colour names for clothing and vehicles, from HSV pixels (OpenCV's ranges: hue 0-179, saturation and value 0-255).

Coarse on purpose: a witness says "red jacket", not a shade, and camera white balance moves shades anyway."""

import numpy as np

COLOURS = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
# Hue bands (upper bounds, OpenCV's 0-179 scale) for saturated pixels.
_HUES = ((8, "red"), (20, "orange"), (33, "yellow"), (85, "green"), (130, "blue"), (150, "purple"), (170, "pink"),
         (180, "red"))


def names_of(hsv: np.ndarray) -> np.ndarray:
    """A colour name index (into COLOURS) for each pixel of an (N, 3) HSV array."""
    h, s, v = (hsv[:, i].astype(np.int16) for i in range(3))
    out = np.full(len(hsv), COLOURS.index("grey"), np.int8)
    lo = 0
    for top, name in _HUES:
        out[(h >= lo) & (h < top)] = COLOURS.index(name)
        lo = top
    # Dark orange and dark red are what cameras make of brown.
    out[(h < 20) & (v < 150) & (s >= 60)] = COLOURS.index("brown")
    grey = s < 50
    out[grey] = COLOURS.index("grey")
    out[grey & (v >= 190)] = COLOURS.index("white")
    out[v < 55] = COLOURS.index("black")
    return out


def dominant(hsv: np.ndarray, *, min_pixels: int = 12) -> tuple[str, float]:
    """The most common colour of the pixels and its share; ("", 0) if there are too few to say."""
    if len(hsv) < min_pixels:
        return "", 0.0
    counts = np.bincount(names_of(hsv), minlength=len(COLOURS))
    best = int(counts.argmax())
    return COLOURS[best], float(counts[best] / len(hsv))


def is_skin(hsv: np.ndarray) -> np.ndarray:
    """Skin-like pixels, any complexion under daylight: warm hue, moderate saturation, not dark. Used only to tell
    a hat from a bare head; nothing about a face is measured or kept."""
    h, s, v = (hsv[:, i].astype(np.int16) for i in range(3))
    return (h < 25) & (s >= 30) & (s < 190) & (v >= 60)
