"""Combine several cameras' views of one person into one position.

Each view is a bearing line from its camera plus a point on it (the single-view
range estimate). Bearings are far more precise than ranges from face size, so with
two or more views the person is placed at the weighted least-squares intersection
of the bearing lines: the point minimising ``sum w_i * d_i²`` where ``d_i`` is the
perpendicular distance to line ``i``. A view's weight is its identity confidence
divided by its distance squared (the same bearing error moves a far person more).

Views are fused only when they agree: two single-view estimates further apart than
the sum of their documented error bounds (``geometry.single_view_error_m``) cannot
both be of one person standing in one place (a wrong pairing, a face half hidden,
a seated person). Then the position is not a point between them, where nobody
stands, but one view's (with any others that agree with it): the view nearest the
person's last position, so a person does not jump to and fro between two cameras'
readings, or the best view (largest weight) for someone not yet placed.

The intersection is not trusted when the lines are nearly parallel (the point is
then ill-defined along them), when it falls behind a camera, or when it is far
outside what the range estimates allow; then the weighted mean of the (agreeing)
single-view estimates is used instead.
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
    # "chosen": several views disagreed; the position is one of them (see above).
    method: Literal["single", "intersection", "mean", "chosen"]


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


def agree(a: ViewEstimate, b: ViewEstimate) -> bool:
    """Whether two views can be of one person in one place: their estimates lie
    within the sum of their documented error bounds of each other."""
    return math.hypot(a.x - b.x, a.y - b.y) <= a.error_m + b.error_m


def anchor(
    views: Sequence[tuple[ViewEstimate, float]], near: tuple[float, float] | None
) -> tuple[ViewEstimate, float]:
    """The view to trust when views disagree: the one nearest ``near`` (the person's
    last position) in units of its own error bound, else the one of largest weight."""
    if near is None:
        return max(views, key=lambda vw: vw[1])
    nx, ny = near
    return min(views, key=lambda vw: math.hypot(vw[0].x - nx, vw[0].y - ny) / vw[0].error_m)


def fuse(
    views: Sequence[tuple[ViewEstimate, float]], near: tuple[float, float] | None = None
) -> Fused:
    """Position from one or more (view, weight) pairs of the same person.

    ``near``: where the person was last placed (None: not placed, or long ago);
    it decides between views that disagree."""
    if not views:
        raise ValueError("fuse() needs at least one view")
    if len(views) == 1:
        v = views[0][0]
        return Fused(v.x, v.y, "single")
    best = anchor(views, near)
    together = [vw for vw in views if agree(vw[0], best[0])]
    if len(together) == 1:
        return Fused(best[0].x, best[0].y, "chosen")
    views = together
    point = intersect(views)
    if point is None:
        return weighted_mean(views)
    px, py = point
    for v, _ in views:
        ahead = (px - v.origin_x) * math.cos(v.bearing) + (py - v.origin_y) * math.sin(v.bearing)
        if ahead <= 0 or math.hypot(px - v.x, py - v.y) > CONSISTENCY_FACTOR * v.error_m:
            return weighted_mean(views)
    return Fused(px, py, "intersection")
