"""Rows the store tests need that no store function writes directly."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.codec import to_blob
from core.store.db import Database
from core.store.models import Person, Sighting, UnknownIdentity

Detection = tuple[str, int, int]  # camera id, seq, detection index


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


def sighting_row(s: Session, camera: str, seq: int, seen_at: float, **fields: object) -> Sighting:
    """A face sighting with any other columns given (``unknown_id``, ``track_id``, ``x``...),
    flushed so it has its id."""
    row = Sighting(
        camera_id=camera,
        seq=seq,
        det_index=0,
        seen_at=seen_at,
        kind="face",
        track_id=fields.pop("track_id", 1),
        bbox_x=0,
        bbox_y=0,
        bbox_w=10,
        bbox_h=10,
        **fields,
    )
    s.add(row)
    s.flush()
    return row


def anonymous(s: Session, centroid: np.ndarray, seen_at: float, count: int = 1) -> UnknownIdentity:
    """An anonymous identity (its centroid an arithmetic vector: the store's bookkeeping
    is tested, not recognition)."""
    ident = UnknownIdentity(
        centroid=to_blob(centroid), count=count, first_seen=seen_at, last_seen=seen_at
    )
    s.add(ident)
    s.flush()
    return ident


def vector(value: float) -> np.ndarray:
    """A 128-d vector with every component ``value``."""
    return np.full(128, value, dtype=np.float32)


def stored_identities(db: Database) -> tuple[dict[Detection, str], dict[int, str]]:
    """Who each stored detection was, anonymous ids named by their first sighting (the
    ids themselves depend on which core instance made them first); and those names by
    anonymous id. Compares the stores of one core and of several."""
    with db.session() as s:
        names = dict(s.execute(select(Person.id, Person.name)).all())
        rows = s.execute(
            select(
                Sighting.camera_id,
                Sighting.seq,
                Sighting.det_index,
                Sighting.person_id,
                Sighting.unknown_id,
            )
        ).all()
    first: dict[int, str] = {}
    for cam, seq, di, _, uid in sorted(rows):
        if uid is not None:
            first.setdefault(uid, f"unknown first seen at {cam}/{seq}/{di}")
    who = {
        (cam, seq, di): names[pid] if pid is not None else first.get(uid or 0, "nobody")
        for cam, seq, di, pid, uid in rows
    }
    return who, first
