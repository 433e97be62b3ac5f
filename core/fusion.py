"""Combine several cameras' views of one person into one position.

Each view is a bearing line from its camera plus a point on it (the single-view
range estimate). Bearings are far more precise than ranges from face size, so with
two or more views the person is placed at the weighted least-squares intersection
of the bearing lines: the point minimising ``sum w_i * d_i²`` where ``d_i`` is the
perpendicular distance to line ``i``. A view's weight is its identity confidence
divided by its distance squared (the same bearing error moves a far person more).

The intersection is not trusted when the lines are nearly parallel (the point is
then ill-defined along them), when it falls behind a camera, or when it is far
outside what the range estimates allow (a wrong pairing); then the weighted mean of
the single-view estimates is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from core.geometry import ViewEstimate

MIN_WEIGHT = 0.05
# Lines closer than this angle to parallel do not define a point.
MIN_CROSSING_DEG = 10.0
# Accept an intersection only within this many single-view error bounds of each view.
CONSISTENCY_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class Fused:
    x: float
    y: float
    method: Literal["single", "intersection", "mean"]


def view_weight(view: ViewEstimate, confidence: float) -> float:
    return max(confidence, MIN_WEIGHT) / max(view.distance_m, 0.5) ** 2


def weighted_mean(views: Sequence[tuple[ViewEstimate, float]]) -> Fused:
    total = sum(w for _, w in views)
    return Fused(
        sum(v.x * w for v, w in views) / total, sum(v.y * w for v, w in views) / total, "mean"
    )


def intersect(views: Sequence[tuple[ViewEstimate, float]]) -> tuple[float, float] | None:
    """Weighted least-squares intersection of the bearing lines, None if degenerate."""
    a11 = a12 = a22 = b1 = b2 = 0.0
    for v, w in views:
        nx, ny = -math.sin(v.bearing), math.cos(v.bearing)  # normal to the line
        c = nx * v.origin_x + ny * v.origin_y
        a11 += w * nx * nx
        a12 += w * nx * ny
        a22 += w * ny * ny
        b1 += w * nx * c
        b2 += w * ny * c
    det = a11 * a22 - a12 * a12
    trace = a11 + a22
    # det / (trace/2)² is sin² of the crossing angle for two equal-weight lines.
    if trace <= 0 or det / (trace * trace / 4.0) < math.sin(math.radians(MIN_CROSSING_DEG)) ** 2:
        return None
    return (a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det


def fuse(views: Sequence[tuple[ViewEstimate, float]]) -> Fused:
    """Position from one or more (view, weight) pairs of the same person."""
    if not views:
        raise ValueError("fuse() needs at least one view")
    if len(views) == 1:
        v = views[0][0]
        return Fused(v.x, v.y, "single")
    point = intersect(views)
    if point is None:
        return weighted_mean(views)
    px, py = point
    for v, _ in views:
        ahead = (px - v.origin_x) * math.cos(v.bearing) + (py - v.origin_y) * math.sin(v.bearing)
        if ahead <= 0 or math.hypot(px - v.x, py - v.y) > CONSISTENCY_FACTOR * v.error_m:
            return weighted_mean(views)
    return Fused(px, py, "intersection")
