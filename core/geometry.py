"""Where one detection puts a person: bearing from the box centre, range from its size.

Conventions (the same as :mod:`srs.wire.site`): plan coordinates in metres, x to
the right, y up the plan; a camera's ``yaw_deg`` is the direction of its optical
axis, counter-clockwise from +x. Seen from above, something to the *right* of the
image centre is *clockwise* from the axis, so ``world bearing = yaw - offset``.

Pinhole model, assumptions (see docs/positions.md):

* focal length in pixels ``f = (W / 2) / tan(hfov / 2)``, square pixels, no lens
  distortion; ``W`` is the frame width the detection was made in;
* horizontal offset of the box centre ``offset = atan((cx - W / 2) / f)``;
* the face is roughly square-on to the camera, of real width 0.15 m (frontal) or
  0.19 m (a profile shows the head's depth, nose to back of the ear), so the range
  along the ray is ``r = f * real / (w * cos²(offset))`` (an off-axis object looks
  wider by ``1 / cos²``);
* the face is 1.6 m above the floor (a standing adult), so the ground distance is
  ``sqrt(r² - (camera height - 1.6)²)`` (0 when the face is right under the camera).

Expected error of one view: ``0.3 m + 20 %`` of the distance (face widths vary
about ±10 % between adults, the detector's box by about as much again, a seated
person's face is ~0.4 m lower); bearing error is about 2° (box centre jitter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from srs.wire.payloads import BBox
from srs.wire.site import CameraPose

FACE_WIDTH_M = 0.15  # average adult frontal face width (Haar box)
PROFILE_WIDTH_M = 0.19  # average head depth seen in profile
FACE_HEIGHT_M = 1.6  # face centre above the floor, standing adult
BASE_ERROR_M = 0.3  # documented single-view error: BASE + FRACTION * distance
RANGE_ERROR_FRACTION = 0.2
BEARING_ERROR_DEG = 2.0

Kind = Literal["face", "profile"]


def real_width_m(kind: Kind) -> float:
    return PROFILE_WIDTH_M if kind == "profile" else FACE_WIDTH_M


def focal_px(image_width: float, hfov_deg: float) -> float:
    """Focal length in pixels of a pinhole camera ``image_width`` px wide."""
    return (image_width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


def offset_rad(cx: float, image_width: float, hfov_deg: float) -> float:
    """Angle of pixel column ``cx`` from the optical axis; positive = right of centre."""
    return math.atan((cx - image_width / 2.0) / focal_px(image_width, hfov_deg))


def world_bearing_rad(yaw_deg: float, offset: float) -> float:
    """Plan bearing (CCW from +x) of a ray ``offset`` radians right of the axis."""
    return math.radians(yaw_deg) - offset


def slant_range_m(
    width_px: float, image_width: float, hfov_deg: float, real_width: float, offset: float = 0.0
) -> float:
    """Distance along the ray to an object ``real_width`` wide that looks ``width_px``."""
    return focal_px(image_width, hfov_deg) * real_width / (width_px * math.cos(offset) ** 2)


def ground_distance_m(
    slant_m: float, camera_height_m: float, face_height_m: float = FACE_HEIGHT_M
) -> float:
    """Horizontal distance from the camera's foot point, given the slant range."""
    dh = camera_height_m - face_height_m
    return math.sqrt(max(slant_m * slant_m - dh * dh, 0.0))


def single_view_error_m(distance_m: float) -> float:
    """The documented error bound of a one-camera position at ``distance_m``."""
    return BASE_ERROR_M + RANGE_ERROR_FRACTION * distance_m


@dataclass(frozen=True, slots=True)
class ViewEstimate:
    """One camera's view of one person: the bearing line and the point on it."""

    camera_id: str
    origin_x: float
    origin_y: float
    bearing: float  # radians, CCW from +x
    distance_m: float  # ground distance along the bearing
    x: float
    y: float

    @property
    def error_m(self) -> float:
        return single_view_error_m(self.distance_m)


def estimate(pose: CameraPose, bbox: BBox, frame_width: int, kind: Kind) -> ViewEstimate:
    """Single-view position of the person whose face/profile is ``bbox``."""
    return locate(pose, bbox.x + bbox.w / 2.0, bbox.w, frame_width, real_width_m(kind))


def locate(
    pose: CameraPose, cx: float, width_px: float, frame_width: float, real_width: float
) -> ViewEstimate:
    """:func:`estimate` on sub-pixel values: box centre column and box width."""
    off = offset_rad(cx, frame_width, pose.hfov_deg)
    bearing = world_bearing_rad(pose.yaw_deg, off)
    slant = slant_range_m(width_px, frame_width, pose.hfov_deg, real_width, off)
    dist = ground_distance_m(slant, pose.height_m)
    return ViewEstimate(
        pose.camera_id,
        pose.x,
        pose.y,
        bearing,
        dist,
        pose.x + dist * math.cos(bearing),
        pose.y + dist * math.sin(bearing),
    )


def project(
    pose: CameraPose, x: float, y: float, kind: Kind = "face", real_width: float | None = None
) -> tuple[float, float] | None:
    """Inverse of :func:`estimate`: (box centre column, box width) in px of a person at
    (x, y), or None when outside the field of view. For simulations and tests."""
    dx, dy = x - pose.x, y - pose.y
    off = math.radians(pose.yaw_deg) - math.atan2(dy, dx)
    off = math.atan2(math.sin(off), math.cos(off))  # wrap to (-pi, pi]
    if abs(off) >= math.radians(pose.hfov_deg) / 2.0:
        return None
    f = focal_px(pose.image_width, pose.hfov_deg)
    slant = math.hypot(math.hypot(dx, dy), pose.height_m - FACE_HEIGHT_M)
    width = f * (real_width or real_width_m(kind)) / (slant * math.cos(off) ** 2)
    return pose.image_width / 2.0 + f * math.tan(off), width
