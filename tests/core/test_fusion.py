"""Bearing fusion with synthetic views."""

from __future__ import annotations

import math

import pytest

from core import geometry
from core.fusion import agree, fuse, intersect, view_weight
from tests.core.sim import box, pose


def view(
    cam_id: str, cx: float, cy: float, yaw: float, x: float, y: float, real_width: float = 0.15
) -> geometry.ViewEstimate:
    cam = pose(cam_id, cx, cy, yaw, hfov_deg=70.0)
    return geometry.estimate(cam, box(cam, x, y, real_width=real_width), 480, "face")


def test_single_view_is_its_own_estimate() -> None:
    v = view("a", 0, 0, 45, 3, 3)
    fused = fuse([(v, 1.0)])
    assert (fused.x, fused.y, fused.method) == (v.x, v.y, "single")


def test_two_cameras_place_within_half_a_metre() -> None:
    # Faces 10 % wider than the model assumes: each range is ~10 % short, the
    # bearings are still right, so the intersection lands on the person.
    a = view("a", 0, 0, 45, 5, 5, real_width=0.165)
    b = view("b", 10, 0, 135, 5, 5, real_width=0.165)
    assert math.hypot(a.x - 5, a.y - 5) > 0.5  # one view alone is off
    fused = fuse([(a, view_weight(a, 0.9)), (b, view_weight(b, 0.6))])
    assert fused.method == "intersection"
    assert math.hypot(fused.x - 5, fused.y - 5) < 0.1


def test_exact_intersection() -> None:
    a = geometry.ViewEstimate("a", 0, 0, math.radians(45), 1, 0.7, 0.7)
    b = geometry.ViewEstimate("b", 4, 0, math.radians(135), 1, 3.3, 0.7)
    assert intersect([(a, 1.0), (b, 1.0)]) == (pytest.approx(2.0), pytest.approx(2.0))


def test_parallel_bearings_fall_back_to_the_weighted_mean() -> None:
    a = geometry.ViewEstimate("a", 0, 0, math.radians(90), 4, 0, 4)
    b = geometry.ViewEstimate("b", 0.1, 0, math.radians(91), 5, 0.0, 5)
    assert intersect([(a, 1.0), (b, 1.0)]) is None
    fused = fuse([(a, 3.0), (b, 1.0)])
    assert fused.method == "mean"
    assert (fused.x, fused.y) == (pytest.approx(0.0), pytest.approx(4.25))


def test_crossing_behind_a_camera_is_not_trusted() -> None:
    # Camera b at (5, 3) looks down-left (240°); its line meets a's line y = x at
    # about (7.7, 7.7), 5.5 m behind b: no person can be there. The two estimates
    # agree within their error bounds, so their mean is used.
    a = geometry.ViewEstimate("a", 0, 0, math.radians(45), 4.95, 3.5, 3.5)
    b = geometry.ViewEstimate("b", 5, 3, math.radians(240), 1.2, 4.4, 1.96)
    px, py = intersect([(a, 1.0), (b, 1.0)]) or (0.0, 0.0)
    assert px == pytest.approx(py) and px > 7
    assert agree(a, b)
    assert fuse([(a, 1.0), (b, 1.0)]).method == "mean"


def test_inconsistent_ranges_are_not_trusted() -> None:
    # Bearings cross at (2, 2) but both cameras think the person is 12 m away, and
    # 13 m apart: no one place for both. One view is used, not a point between.
    a = geometry.ViewEstimate("a", 0, 0, math.radians(45), 12, 8.5, 8.5)
    b = geometry.ViewEstimate("b", 4, 0, math.radians(135), 12, -4.5, 8.5)
    assert not agree(a, b)
    fused = fuse([(a, 1.0), (b, 2.0)])
    assert (fused.x, fused.y, fused.method) == (b.x, b.y, "chosen")


# The demo's server-room door: a camera on each side of it, 0.4 m apart, looking
# away from each other. Both "see" the same man under a metre away, one in the
# corridor (y 6.1), one in the room (y 3.9): 2.2 m apart, beyond both error bounds
# (about 0.5 m each). Their mean (y ~5) is the zone boundary, where he is not.
CORRIDOR = geometry.ViewEstimate("corridor", 17, 5.2, math.radians(90), 0.9, 17, 6.1)
ROOM = geometry.ViewEstimate("room", 17, 4.8, math.radians(-90), 0.9, 17, 3.9)


def test_views_that_disagree_are_not_averaged() -> None:
    assert not agree(CORRIDOR, ROOM)
    views = [(CORRIDOR, 1.0), (ROOM, 1.5)]
    # Nobody placed yet: the best view (largest weight).
    assert (fuse(views).y, fuse(views).method) == (3.9, "chosen")
    # Someone placed: the view nearest where they were, whichever weighs more.
    assert fuse(views, near=(17.0, 6.3)).y == 6.1
    assert fuse(views, near=(17.0, 4.6)).y == 3.9


def test_a_view_that_disagrees_is_left_out_the_others_fused() -> None:
    a = view("a", 0, 0, 45, 5, 5, real_width=0.165)
    b = view("b", 10, 0, 135, 5, 5, real_width=0.165)
    stray = geometry.ViewEstimate("c", 5, 12, math.radians(-90), 1.0, 5.0, 11.0)
    views = [(a, view_weight(a, 0.9)), (b, view_weight(b, 0.6)), (stray, 5.0)]
    fused = fuse(views, near=(5.2, 4.8))
    assert fused.method == "intersection"
    assert math.hypot(fused.x - 5, fused.y - 5) < 0.1


def test_weights_favour_confident_and_close_views() -> None:
    near = geometry.ViewEstimate("a", 0, 0, 0.0, 1.0, 1.0, 0.0)
    far = geometry.ViewEstimate("b", 0, 0, 0.0, 4.0, 4.0, 0.0)
    assert view_weight(near, 0.9) > view_weight(far, 0.9)
    assert view_weight(near, 0.9) > view_weight(near, 0.3)
    assert view_weight(near, 0.0) > 0  # an unidentified view still counts a little


def test_no_views_is_an_error() -> None:
    with pytest.raises(ValueError):
        fuse([])
