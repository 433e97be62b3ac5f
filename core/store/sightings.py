"""Reading the sighting history (CLI, operator queries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.observation import known_key, unknown_key
from core.store.codec import parse_key
from core.store.errors import StoreError
from core.store.models import Person, Sighting
from core.store.people import find_person


def describe(row: Sighting, names: dict[int, str]) -> dict[str, Any]:
    if row.person_id is not None:
        key, identity = known_key(row.person_id), "known"
        label = names.get(row.person_id, key)
    elif row.unknown_id is not None:
        key, identity, label = unknown_key(row.unknown_id), "unknown", f"Unknown {row.unknown_id}"
    else:
        key, identity, label = None, "unidentified", "Unidentified"
    return {
        "id": row.id,
        "person_key": key,
        "identity": identity,
        "label": label,
        "camera_id": row.camera_id,
        "seq": row.seq,
        "seen_at": row.seen_at,
        "kind": row.kind,
        "track_id": row.track_id,
        "bbox": [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h],
        "distance": row.distance,
        "x": row.x,
        "y": row.y,
        "zone": row.zone,
        "evidence": row.evidence,
        "evidence_age_s": row.evidence_age_s,
        "confidence": row.confidence,
        "candidate": (
            names.get(row.candidate_id, known_key(row.candidate_id))
            if row.candidate_id is not None
            else None
        ),
    }


def query_sightings(
    s: Session,
    *,
    person: str | None = None,
    camera: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Newest first. ``person`` is a name, id, ``p3`` or ``u7``."""
    q = select(Sighting)
    if person is not None:
        parsed = parse_key(person)
        if parsed and parsed[0] == "unknown":
            q = q.where(Sighting.unknown_id == parsed[1])
        else:
            q = q.where(Sighting.person_id == find_person(s, person).id)
    if camera is not None:
        q = q.where(Sighting.camera_id == camera)
    if since is not None:
        q = q.where(Sighting.seen_at >= since)
    if until is not None:
        q = q.where(Sighting.seen_at <= until)
    if limit < 1:
        raise StoreError("limit must be at least 1")
    rows = list(s.scalars(q.order_by(Sighting.seen_at.desc(), Sighting.id.desc()).limit(limit)))
    ids = {r.person_id for r in rows if r.person_id is not None}
    ids |= {r.candidate_id for r in rows if r.candidate_id is not None}
    names = (
        dict(s.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all())
        if ids
        else {}
    )
    return [describe(r, names) for r in rows]
