"""Where a neighbour's home falls in a camera's picture, as a mask polygon in fractions of the frame.

Cameras are registered with a compass direction, a field of view and a range, not a calibrated lens, so the home
is placed by its bearing alone: a full-height band from left to right edge of the bearings a house front (about
15 m either side of the address point) spans, seen from the camera. Generous on purpose: the band is a privacy
mask, and too wide hides a little street, too narrow would show the home."""

import math

HALF_WIDTH_M = 15.0
MARGIN_DEG = 3.0


def _bearing_deg(from_lng: float, from_lat: float, to_lng: float, to_lat: float) -> float:
    lat1, lat2 = math.radians(from_lat), math.radians(to_lat)
    d_lng = math.radians(to_lng - from_lng)
    y = math.sin(d_lng) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(d_lng)
    return math.degrees(math.atan2(y, x)) % 360


def _distance_m(from_lng: float, from_lat: float, to_lng: float, to_lat: float) -> float:
    lat1, lat2 = math.radians(from_lat), math.radians(to_lat)
    a = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(to_lng - from_lng) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def home_band(*, camera_lng: float, camera_lat: float, direction_deg: int, field_of_view_deg: int,
              home_lng: float, home_lat: float) -> list[list[float]] | None:
    """The polygon masking the home, or None when the home is outside the camera's field of view."""
    distance = _distance_m(camera_lng, camera_lat, home_lng, home_lat)
    if distance < HALF_WIDTH_M:  # the camera stands at the home itself: mask the whole picture
        return [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    offset = (_bearing_deg(camera_lng, camera_lat, home_lng, home_lat) - direction_deg + 540) % 360 - 180
    half = math.degrees(math.atan2(HALF_WIDTH_M, distance)) + MARGIN_DEG
    fov = max(field_of_view_deg, 1)
    left = min(max(0.5 + (offset - half) / fov, 0.0), 1.0)
    right = min(max(0.5 + (offset + half) / fov, 0.0), 1.0)
    if right - left <= 0:
        return None
    return [[round(left, 5), 0.0], [round(right, 5), 0.0], [round(right, 5), 1.0], [round(left, 5), 1.0]]


def home_span(*, camera_lng: float, camera_lat: float, direction_deg: int, field_of_view_deg: int,
              home_lng: float, home_lat: float) -> tuple[float, float] | None:
    """The part of the picture's width (fractions, left to right) the house front itself spans, without the
    margin home_band adds; None when the home is outside the field of view. (0, 1) for a camera at the home."""
    distance = _distance_m(camera_lng, camera_lat, home_lng, home_lat)
    if distance < HALF_WIDTH_M:
        return 0.0, 1.0
    offset = (_bearing_deg(camera_lng, camera_lat, home_lng, home_lat) - direction_deg + 540) % 360 - 180
    half = math.degrees(math.atan2(HALF_WIDTH_M, distance))
    fov = max(field_of_view_deg, 1)
    left = min(max(0.5 + (offset - half) / fov, 0.0), 1.0)
    right = min(max(0.5 + (offset + half) / fov, 0.0), 1.0)
    return (left, right) if right > left else None


def masks_cover_span(masks: list, span: tuple[float, float]) -> bool:
    """Whether the masks (polygons of [x, y] fractions) together hide the house front's span at mid-height, where a
    home at street distance sits in the picture."""
    from django.contrib.gis.geos import LineString, Polygon

    shapes = []
    for points in masks:
        ring = [tuple(point) for point in points]
        if len(ring) < 3:
            continue
        polygon = Polygon(ring + [ring[0]])
        shapes.append(polygon if polygon.valid else polygon.buffer(0))
    if not shapes:
        return False
    union = shapes[0]
    for shape in shapes[1:]:
        union = union.union(shape)
    left, right = span
    inset = min(0.001, (right - left) / 4)  # a mask drawn to the picture's very edge still counts
    return union.buffer(0.002).covers(LineString((left + inset, 0.5), (right - inset, 0.5)))
