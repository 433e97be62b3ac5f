"""Rows the store tests need that no store function writes directly."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.store.models import Sighting


def add_sighting(s: Session, camera: str, seq: int, person_id: int | None, seen_at: float) -> None:
    """A face sighting of ``person_id`` (None: nobody) on ``camera`` at ``seen_at``."""
    s.add(
        Sighting(
            camera_id=camera,
            seq=seq,
            det_index=0,
            person_id=person_id,
            seen_at=seen_at,
            kind="face",
            track_id=1,
            bbox_x=0,
            bbox_y=0,
            bbox_w=10,
            bbox_h=10,
        )
    )
