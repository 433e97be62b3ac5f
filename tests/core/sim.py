"""Synthetic camera views for the positions tests: a person at a known plan point,
as the box a camera would report (the inverse of core.geometry)."""

from __future__ import annotations

from core import geometry
from core.observation import Observation, known_key, unknown_key
from srs.wire.payloads import BBox, IdentityKind
from srs.wire.site import CameraPose


def pose(
    camera_id: str,
    x: float,
    y: float,
    yaw_deg: float,
    *,
    hfov_deg: float = 90.0,
    height_m: float = 2.5,
    image_width: int = 480,
    image_height: int = 270,
) -> CameraPose:
    return CameraPose(
        camera_id=camera_id,
        x=x,
        y=y,
        yaw_deg=yaw_deg,
        hfov_deg=hfov_deg,
        height_m=height_m,
        image_width=image_width,
        image_height=image_height,
    )


def box(
    cam: CameraPose,
    x: float,
    y: float,
    *,
    kind: geometry.Kind = "face",
    real_width: float | None = None,
) -> BBox:
    """The integer box of a face at (x, y) as ``cam`` sees it (rounded like a detector)."""
    seen = geometry.project(cam, x, y, kind, real_width)
    assert seen is not None, f"({x}, {y}) is outside camera {cam.camera_id}'s view"
    cx, w = seen
    w_px = max(1, round(w))
    return BBox(x=max(0, round(cx - w_px / 2)), y=100, w=w_px, h=w_px)


def observation(
    cam: CameraPose,
    x: float,
    y: float,
    at: float,
    *,
    track_id: int = 1,
    person: int | None = 1,
    identity: IdentityKind = "known",
    label: str = "Ada Lovelace",
    kind: geometry.Kind = "face",
    confidence: float = 0.9,
    real_width: float | None = None,
) -> Observation:
    """An observation of a person at (x, y); ``person=None`` makes it unidentified."""
    key = None
    if person is not None:
        key = known_key(person) if identity == "known" else unknown_key(person)
    return Observation(
        camera_id=cam.camera_id,
        track_id=track_id,
        kind=kind,
        bbox=box(cam, x, y, kind=kind, real_width=real_width),
        frame_width=cam.image_width,
        frame_height=cam.image_height,
        seen_at=at,
        identity=identity if key else "unidentified",
        person_key=key,
        label=label,
        confidence=confidence,
    )
