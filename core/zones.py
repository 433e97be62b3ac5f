"""Zones on the floor plan: point-in-polygon, lookup and hysteresis.

A point belongs to the *smallest* zone that contains it, so a desk area drawn
inside a classroom wins over the classroom. Positions estimated from a camera
jitter by tens of centimetres; without hysteresis a person standing in a doorway
would flicker between two rooms and flood the zone-event stream. The
:class:`ZoneIndex` therefore keeps a person in their current zone until the point
is clearly (``margin_m``) outside it, or clearly inside a nested zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]
Polygon = Sequence[Point]


def polygon_area(poly: Polygon) -> float:
    """Signed area (shoelace): positive when the corners run counter-clockwise."""
    n = len(poly)
    return 0.5 * sum(
        poly[i][0] * poly[(i + 1) % n][1] - poly[(i + 1) % n][0] * poly[i][1] for i in range(n)
    )


def point_in_polygon(x: float, y: float, poly: Polygon) -> bool:
    """Even-odd ray casting; points on an edge count as inside."""
    inside = False
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    # The edge test is the costly part: only for points the ray puts outside.
    return inside or distance_to_boundary(x, y, poly) < 1e-9


def _segment_distance(x: float, y: float, a: Point, b: Point) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def distance_to_boundary(x: float, y: float, poly: Polygon) -> float:
    n = len(poly)
    return min(_segment_distance(x, y, poly[i], poly[(i + 1) % n]) for i in range(n))


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Proper crossing (shared end points and touching do not count)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def self_intersects(poly: Polygon) -> bool:
    """True when two non-adjacent edges cross (a 'bow tie')."""
    n = len(poly)
    edges = [(poly[i], poly[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if _segments_cross(*edges[i], *edges[j]):
                return True
    return False


@dataclass(frozen=True, slots=True)
class ZoneShape:
    zone_id: str
    polygon: tuple[Point, ...]
    restricted: bool = False
    # (min x, min y, max x, max y): most points of a site lie outside most zones, and
    # this answers them without walking the polygon (the locator asks per detection).
    bounds: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        object.__setattr__(self, "bounds", (min(xs), min(ys), max(xs), max(ys)))

    @property
    def area(self) -> float:
        return abs(polygon_area(self.polygon))

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.bounds
        if x < x0 or x > x1 or y < y0 or y > y1:
            return False
        return point_in_polygon(x, y, self.polygon)


class ZoneIndex:
    """Zone lookup (smallest containing zone wins) with hysteresis."""

    def __init__(self, zones: Sequence[ZoneShape], *, margin_m: float = 0.3) -> None:
        self.margin_m = margin_m
        # Smallest first, so the first hit is the most specific zone.
        self._zones = sorted(zones, key=lambda z: z.area)
        self._by_id = {z.zone_id: z for z in zones}

    def get(self, zone_id: str | None) -> ZoneShape | None:
        return None if zone_id is None else self._by_id.get(zone_id)

    def lookup(self, x: float, y: float) -> ZoneShape | None:
        return next((z for z in self._zones if z.contains(x, y)), None)

    def update(self, current: str | None, x: float, y: float) -> str | None:
        """The zone a person at (x, y) is in, given the zone they were in."""
        found = self.lookup(x, y)
        found_id = found.zone_id if found else None
        cur = self.get(current)
        if cur is None or found_id == current:
            return found_id
        if cur.contains(x, y):
            # Still inside the current zone: move into a nested zone only when
            # clearly inside it, not when grazing its edge.
            if (
                found is not None
                and found.area < cur.area
                and distance_to_boundary(x, y, found.polygon) >= self.margin_m
            ):
                return found_id
            return current
        # Outside the current zone: leave only once clearly outside it.
        if distance_to_boundary(x, y, cur.polygon) <= self.margin_m:
            return current
        return found_id
