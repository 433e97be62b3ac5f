"""Pinhole geometry with synthetic values: exact expectations worked out by hand."""

from __future__ import annotations

import math

import pytest

from core import geometry
from srs.wire.payloads import BBox
from tests.core.sim import box, pose

# hfov 90° on a 480 px frame: f = 240 / tan(45°) = 240 px exactly.
CAM = pose("c", 1.0, 2.0, 90.0, hfov_deg=90.0, height_m=2.5)


def test_focal_length_and_offsets() -> None:
    assert geometry.focal_px(480, 90.0) == pytest.approx(240.0)
    assert geometry.focal_px(640, 60.0) == pytest.approx(320 / math.tan(math.radians(30)))
    assert geometry.offset_rad(240, 480, 90.0) == 0.0
    assert geometry.offset_rad(480, 480, 90.0) == pytest.approx(math.pi / 4)
    assert geometry.offset_rad(0, 480, 90.0) == pytest.approx(-math.pi / 4)


def test_right_of_centre_is_clockwise() -> None:
    # Looking up the plan (+y), something right of the image centre lies towards +x.
    assert geometry.world_bearing_rad(90.0, math.pi / 4) == pytest.approx(math.pi / 4)
    assert geometry.world_bearing_rad(0.0, -math.pi / 6) == pytest.approx(math.pi / 6)


def test_range_and_ground_distance_on_axis() -> None:
    # 0.15 m face, 24 px wide, f = 240 px: 1.5 m along the ray; the camera is
    # 0.9 m above the face, so 1.2 m along the floor (a 3-4-5 triangle).
    assert geometry.slant_range_m(24, 480, 90.0, 0.15) == pytest.approx(1.5)
    assert geometry.ground_distance_m(1.5, 2.5) == pytest.approx(1.2)
    assert geometry.ground_distance_m(0.5, 2.5) == 0.0  # right under the camera


def test_estimate_on_axis_face() -> None:
    est = geometry.estimate(CAM, BBox(x=228, y=50, w=24, h=24), 480, "face")
    assert (est.x, est.y) == (pytest.approx(1.0), pytest.approx(3.2))
    assert est.distance_m == pytest.approx(1.2)
    assert est.bearing == pytest.approx(math.pi / 2)


def test_estimate_off_axis_face() -> None:
    # Box centre at the right edge: 45° right of the axis, so bearing 45°; the box
    # looks 1/cos²(45°) = 2x wider: range = 240 * 0.15 / (24 * 0.5) = 3 m.
    est = geometry.estimate(CAM, BBox(x=468, y=50, w=24, h=24), 480, "face")
    ground = math.sqrt(3.0**2 - 0.9**2)
    assert est.bearing == pytest.approx(math.pi / 4)
    assert est.x == pytest.approx(1.0 + ground * math.sqrt(0.5))
    assert est.y == pytest.approx(2.0 + ground * math.sqrt(0.5))


def test_profile_uses_head_depth() -> None:
    # 0.19 m head depth, 20 px: 240 * 0.19 / 20 = 2.28 m range, then the floor.
    est = geometry.estimate(CAM, BBox(x=230, y=50, w=20, h=20), 480, "profile")
    assert est.distance_m == pytest.approx(math.sqrt(2.28**2 - 0.9**2))


def test_other_frame_width_scales() -> None:
    # The same view analysed at 960 px: twice the pixels, same position.
    small = geometry.estimate(CAM, BBox(x=228, y=50, w=24, h=24), 480, "face")
    big = geometry.estimate(CAM, BBox(x=456, y=100, w=48, h=48), 960, "face")
    assert (big.x, big.y) == (pytest.approx(small.x), pytest.approx(small.y))


@pytest.mark.parametrize("yaw", [0.0, 90.0, -135.0, 200.0])
def test_project_inverts_locate(yaw: float) -> None:
    cam = pose("c", 5.0, 5.0, yaw, hfov_deg=70.0, height_m=2.7)
    for ang in (-30.0, -10.0, 0.0, 20.0, 34.0):
        for dist in (0.8, 2.0, 5.0, 9.0):
            b = math.radians(yaw + ang)
            x, y = 5.0 + dist * math.cos(b), 5.0 + dist * math.sin(b)
            seen = geometry.project(cam, x, y)
            assert seen is not None
            est = geometry.locate(cam, seen[0], seen[1], 480, geometry.FACE_WIDTH_M)
            assert (est.x, est.y) == (pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9))


def test_project_outside_the_view() -> None:
    assert geometry.project(CAM, 1.0, 0.0) is None  # behind
    assert geometry.project(CAM, 10.0, 2.5) is None  # 87° to the right


@pytest.mark.parametrize("true_width", [0.135, 0.15, 0.165])  # adults vary about ±10 %
def test_single_view_within_documented_error(true_width: float) -> None:
    cam = pose("c", 0.0, 0.0, 45.0, hfov_deg=62.0, height_m=2.5, image_width=640)
    for ang in (-25.0, 0.0, 25.0):
        for dist in (1.5, 3.0, 6.0):
            b = math.radians(45.0 + ang)
            x, y = dist * math.cos(b), dist * math.sin(b)
            est = geometry.estimate(cam, box(cam, x, y, real_width=true_width), 640, "face")
            error = math.hypot(est.x - x, est.y - y)
            assert error <= geometry.single_view_error_m(dist), (ang, dist, error)
