"""Simple tracking: a box in the next sampled frame that overlaps a track's last box (same kind) continues it.

Enough for direction of travel across a few seconds at a few frames a second; crossings of two people may swap
or split tracks (docs/BENCHMARKS.md)."""

from dataclasses import dataclass, field

from detections.detector import Found, iou

MIN_OVERLAP = 0.3
MAX_GAP = 2  # sampled frames a track may miss (an occlusion, a missed detection) and still continue


@dataclass
class Sighting:
    t_s: float
    found: Found
    attributes: object = None


@dataclass
class Track:
    kind: str
    sightings: list[Sighting] = field(default_factory=list)
    missed: int = 0

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    def best(self) -> Sighting:
        return max(self.sightings, key=lambda s: s.found.score)

    def direction(self) -> str:
        """Across the frame, as the camera sees it: left, right, toward (down the frame, growing), away, or still."""
        if len(self.sightings) < 2:
            return ""
        (x0, y0, w0, h0), (x1, y1, w1, h1) = self.sightings[0].found.box, self.last.found.box
        dx = (x1 + w1 / 2) - (x0 + w0 / 2)
        dy = (y1 + h1) - (y0 + h0)  # the feet or wheels: where it stands
        size = max(w0, h0, 1)
        if abs(dx) < 0.25 * size and abs(dy) < 0.25 * size:
            return "still"
        if abs(dx) >= abs(dy):
            return "right" if dx > 0 else "left"
        return "toward" if dy > 0 else "away"


def _closeness(last, box) -> float:
    """How well `box` continues a track whose last box is `last`: their overlap, or for a fast mover sampled a
    few times a second (a car crossing), a box of about its size whose centre moved less than its own width."""
    overlap = iou(last, box)
    if overlap >= MIN_OVERLAP:
        return overlap
    lx, ly, lw, lh = last
    bx, by, bw, bh = box
    if not 0.5 <= (bw * bh) / max(lw * lh, 1) <= 2.0:
        return 0.0
    distance = ((lx + lw / 2 - bx - bw / 2) ** 2 + (ly + lh / 2 - by - bh / 2) ** 2) ** 0.5
    reach = max(lw, bw)
    return MIN_OVERLAP * (1 - distance / reach) if distance < reach else 0.0


def tracks_follow(tracks: list[Track], found: list[Found], t_s: float, attributes: list) -> None:
    """Adds one sampled frame's boxes to the open tracks (greedy, best overlap first) or opens new ones."""
    open_tracks = [track for track in tracks if track.missed <= MAX_GAP]
    pairs = sorted(((_closeness(track.last.found.box, item.box), ti, fi) for ti, track in enumerate(open_tracks)
                    for fi, item in enumerate(found) if track.kind == item.kind), reverse=True)
    taken_tracks, taken_found = set(), set()
    for overlap, ti, fi in pairs:
        if overlap <= 0 or ti in taken_tracks or fi in taken_found:
            continue
        open_tracks[ti].sightings.append(Sighting(t_s, found[fi], attributes[fi]))
        open_tracks[ti].missed = 0
        taken_tracks.add(ti)
        taken_found.add(fi)
    for ti, track in enumerate(open_tracks):
        if ti not in taken_tracks:
            track.missed += 1
    for fi, item in enumerate(found):
        if fi not in taken_found:
            tracks.append(Track(item.kind, [Sighting(t_s, item, attributes[fi])]))
