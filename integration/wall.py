"""An incident wall: the integrated cameras around an incident or a call, opened together as live views.

A wall is N ordinary live sessions, each opened through services.live_session_open (gated, counted, time-boxed and
in its owner's history exactly as a single view), carried to the analyst on one socket (consumers/wall.py).

Order: cameras whose view cone covers the spot first, then nearest. Once the analyst marks a direction of flight,
cameras ahead of the spot (within 45° of it, then within 90°) come before those beside and behind it.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction

from audit.actions import Action
from audit.ledger import record
from integration import services
from integration.gating import LiveRefused
from integration.models import LiveSession
from registry.models import Camera
from registry.selectors import cameras_near

SEARCH_M = 2000  # how far from the spot a wall looks for integrated cameras
ON_THE_SPOT_M = 15  # closer than this a camera has no meaningful bearing: it counts as ahead


@dataclass(frozen=True)
class WallCamera:
    code: str
    label: str
    distance_m: float
    bearing_deg: float  # from the spot to the camera, 0 = north
    facing: bool  # its view cone covers the spot
    lat: float = 0.0
    lng: float = 0.0


@dataclass
class WallTile:
    camera: WallCamera
    session: LiveSession | None = None
    refused: str = ""  # the gate's words, as a single view shows them; never owner data


def bearing_deg(origin: Point, target: Point) -> float:
    """Initial great-circle bearing from origin to target, in degrees from north."""
    lat1, lat2 = math.radians(origin.y), math.radians(target.y)
    dlng = math.radians(target.x - origin.x)
    y = math.sin(dlng) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlng)
    return math.degrees(math.atan2(y, x)) % 360


def angle_between(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def _ahead_rank(camera: WallCamera, heading: float | None) -> int:
    """0 ahead, 1 to the side, 2 behind; 0 for all without a direction of flight."""
    if heading is None or camera.distance_m < ON_THE_SPOT_M:
        return 0
    off = angle_between(camera.bearing_deg, heading)
    return 0 if off <= 45 else 1 if off <= 90 else 2


def wall_order(cameras: list[WallCamera], *, heading: float | None = None) -> list[WallCamera]:
    """Ahead of the flight first (when marked), then facing the spot, then nearest."""
    return sorted(cameras, key=lambda c: (_ahead_rank(c, heading), not c.facing, c.distance_m, c.code))


def wall_cameras(*, point: Point, heading: float | None = None, limit: int | None = None) -> list[WallCamera]:
    """The integrated cameras around the spot in wall order, at most CONNECT_WALL_CAMERAS."""
    near = cameras_near(point=point, radius_m=SEARCH_M)
    found = [WallCamera(code=c.code, label=c.label, distance_m=round(c.distance_m, 1),
                        bearing_deg=round(bearing_deg(point, Point(c.lng, c.lat, srid=4326)), 1), facing=c.covers,
                        lat=c.lat, lng=c.lng)
             for c in near if c.level == Camera.Level.INTEGRATED]
    return wall_order(found, heading=heading)[:limit or settings.WALL_CAMERAS]


def wall_reorder(*, point: Point, codes: list[str], heading: float | None) -> list[WallCamera]:
    """The wall's own cameras (named by code) in the order a new direction of flight gives them."""
    wanted = set(codes)
    near = [c for c in wall_cameras(point=point, limit=500) if c.code in wanted]
    return wall_order(near, heading=heading)


def wall_open(*, user, point: Point, incident, reason: str, heading: float | None = None) -> list[WallTile]:
    """Opens a live session on each camera of the wall through the same service as a single view; a camera the
    gate refuses keeps the refusal (recorded as live.refused, as for a single view) to show in its tile."""
    tiles = []
    for camera in wall_cameras(point=point, heading=heading):
        tile = WallTile(camera=camera)
        target = Camera.objects.select_related("owner").get(code=camera.code)
        try:
            tile.session = services.live_session_open(user=user, camera=target, incident=incident, reason=reason)
        except LiveRefused as refused:
            tile.refused = refused.message
        tiles.append(tile)
    with transaction.atomic():
        record(actor=user, action=Action.LIVE_WALL_OPENED, target_type="incident",
               target_code=incident.code if incident else "", case_number=incident.case_number if incident else "",
               reason=reason[:500], cameras=len(tiles), opened=sum(1 for t in tiles if t.session),
               heading=heading, point=[round(point.x, 6), round(point.y, 6)])
    return tiles
