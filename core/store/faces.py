"""Face crops per identity: keep the best few, read them for operators.

A crop hangs on a sighting (core/store/models.py ``FaceCrop``), so it belongs to
whoever that sighting belongs to. The keep-the-best rule, applied when a crop is
added: at most one crop per track of an identity (the better one: an edge sends
the best face of the track so far, again and again), and at most ``MAX_KEPT``
per identity (the worst goes). A merge can leave an identity with more until its
next crop arrives; readers take the best ``limit`` anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from core.store.codec import parse_key
from core.store.errors import StoreError
from core.store.models import FaceCrop, Person, Sighting, UnknownIdentity
from srs.wire.commands import MAX_FACES

MAX_KEPT = MAX_FACES


@dataclass(frozen=True)
class NewCrop:
    sighting_id: int
    jpeg: bytes
    quality: float


def _owner(s: Session, sighting: Sighting) -> ColumnElement[bool] | None:
    """The column condition selecting the sightings of this sighting's identity."""
    if sighting.person_id is not None:
        return Sighting.person_id == sighting.person_id
    if sighting.unknown_id is not None:
        return Sighting.unknown_id == sighting.unknown_id
    return None


def keep_crops(s: Session, crops: list[NewCrop]) -> int:
    """Add ``crops`` by the keep-the-best rule; returns how many were kept."""
    kept = 0
    for crop in crops:
        sighting = s.get(Sighting, crop.sighting_id)
        owner = None if sighting is None else _owner(s, sighting)
        if sighting is None or owner is None:
            continue  # nobody to show it for
        rows = s.execute(
            select(FaceCrop.id, FaceCrop.quality, Sighting.camera_id, Sighting.track_id)
            .join(Sighting, FaceCrop.sighting_id == Sighting.id)
            .where(owner)
        ).all()
        same_track = [
            r for r in rows if (r.camera_id, r.track_id) == (sighting.camera_id, sighting.track_id)
        ]
        if any(r.quality >= crop.quality for r in same_track):
            continue
        drop = {r.id for r in same_track}
        others = sorted((r for r in rows if r.id not in drop), key=lambda r: r.quality)
        if len(others) >= MAX_KEPT:
            worst = others[: len(others) - MAX_KEPT + 1]
            if worst[-1].quality >= crop.quality:
                continue  # not better than any of the kept ones
            drop |= {r.id for r in worst}
        if drop:
            s.execute(delete(FaceCrop).where(FaceCrop.id.in_(drop)))
        s.add(FaceCrop(sighting_id=crop.sighting_id, jpeg=crop.jpeg, quality=crop.quality))
        s.flush()
        kept += 1
    return kept


def best_crops(s: Session, key: str, limit: int = MAX_FACES) -> list[dict[str, Any]]:
    """The best ``limit`` crops of ``p3`` or ``u7`` (raw JPEG bytes), best first."""
    parsed = parse_key(key)
    if parsed is None:
        raise StoreError(f"{key!r} is not a person key (p3) or identity key (u7)")
    kind, ident = parsed
    model = Person if kind == "known" else UnknownIdentity
    if s.get(model, ident) is None:
        raise StoreError(f"no {'person' if kind == 'known' else 'anonymous identity'} {key!r}")
    column = Sighting.person_id if kind == "known" else Sighting.unknown_id
    rows = s.execute(
        select(FaceCrop, Sighting)
        .join(Sighting, FaceCrop.sighting_id == Sighting.id)
        .where(column == ident)
        .order_by(FaceCrop.quality.desc(), Sighting.seen_at.desc())
        .limit(limit)
    ).all()
    return [
        {
            "jpeg": crop.jpeg,
            "quality": crop.quality,
            "seen_at": sighting.seen_at,
            "camera_id": sighting.camera_id,
            "track_id": sighting.track_id,
            "sighting_id": sighting.id,
        }
        for crop, sighting in rows
    ]
