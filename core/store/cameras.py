"""The camera registry: who may send detections, with which key."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.store.audit import CAMERAS, audit, bump
from core.store.errors import StoreError
from core.store.models import Camera
from srs.wire.signing import public_key_from_b64
from srs.wire.topics import TopicError, check_id


@dataclass(frozen=True)
class CameraInfo:
    id: str
    public_key: str
    enabled: bool
    created_at: float

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "public_key": self.public_key,
            "enabled": self.enabled,
            "created_at": self.created_at,
        }


def _info(c: Camera) -> CameraInfo:
    return CameraInfo(c.id, c.public_key, c.enabled, c.created_at)


def add_camera(
    s: Session, camera_id: str, public_key: str, *, actor: str = "cli", replace: bool = False
) -> CameraInfo:
    try:
        check_id(camera_id, "camera id")
    except TopicError as exc:
        raise StoreError(str(exc)) from None
    key = public_key.strip()
    try:
        public_key_from_b64(key)
    except ValueError as exc:
        raise StoreError(f"camera {camera_id}: {exc}") from None
    cam = s.get(Camera, camera_id)
    if cam is not None and not replace:
        raise StoreError(
            f"camera {camera_id!r} is already registered (remove it first to change its key)"
        )
    if cam is None:
        cam = Camera(id=camera_id, public_key=key, enabled=True, created_at=time.time())
        s.add(cam)
    else:
        cam.public_key = key
    audit(s, "admin", actor, "camera_add", f"camera {camera_id}")
    bump(s, CAMERAS)
    s.flush()
    return _info(cam)


def list_cameras(s: Session) -> list[CameraInfo]:
    return [_info(c) for c in s.scalars(select(Camera).order_by(Camera.id))]


def remove_camera(s: Session, camera_id: str, *, actor: str = "cli") -> None:
    if s.get(Camera, camera_id) is None:
        raise StoreError(f"no camera {camera_id!r} is registered")
    s.execute(delete(Camera).where(Camera.id == camera_id))
    audit(s, "admin", actor, "camera_remove", f"camera {camera_id}")
    bump(s, CAMERAS)


def set_camera_enabled(s: Session, camera_id: str, enabled: bool, *, actor: str = "cli") -> None:
    cam = s.get(Camera, camera_id)
    if cam is None:
        raise StoreError(f"no camera {camera_id!r} is registered")
    cam.enabled = enabled
    audit(
        s, "admin", actor, "camera_enable" if enabled else "camera_disable", f"camera {camera_id}"
    )
    bump(s, CAMERAS)


def camera_keys(s: Session) -> dict[str, tuple[str, bool]]:
    """camera id -> (public key, enabled)."""
    return {c.id: (c.public_key, c.enabled) for c in s.scalars(select(Camera))}
