"""The store stage: recognised, placed detections in, stored rows and sightings out.

Called with an open session: it writes the batch's ``processed_messages`` rows, its
sightings (with their places and how each identity was established) and the
anonymous identities it saw again, all in the caller's one transaction, and returns
the ``SightingBatch`` messages (which carry the stored ids) for after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from core.anonymous import update_identities
from core.faces import store_crops
from core.identify import Identity, Recognised
from core.messages import Accepted, Outgoing
from core.observation import Placement
from core.place import Placed
from core.store.codec import to_blob
from core.store.models import ProcessedMessage, Sighting
from srs.wire import topics
from srs.wire.payloads import MAX_SIGHTINGS, SightingBatch
from srs.wire.payloads import Sighting as SightingMsg

log = logging.getLogger(__name__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
SIGHTINGS = cast(Table, Sighting.__table__)


@dataclass(slots=True)
class Stored:
    """The store stage's output: the sightings messages to publish after the commit."""

    outgoing: list[Outgoing] = field(default_factory=list)
    sightings: int = 0


TOKEN_ROOM = 512  # bytes of a signed message that are not the sightings: header, claims, signature


def _json_size(item: SightingMsg) -> int:
    """The item's size in the signed claims: bytes of its compact JSON, as ``sign`` writes it."""
    return len(item.model_dump_json(exclude_none=True).encode())


def sighting_batches(items: Sequence[SightingMsg], max_bytes: int) -> list[SightingBatch]:
    """``items`` in as few messages as fit: at most MAX_SIGHTINGS each, and each signed
    message within ``max_bytes`` (receivers and the broker drop larger ones). A single
    sighting too big for that still goes alone, as it did before batching."""
    budget = max_bytes * 3 // 4 - TOKEN_ROOM  # a signed token is base64: 4 bytes per 3
    out: list[SightingBatch] = []
    chunk: list[SightingMsg] = []
    size = 0
    for item in items:
        n = _json_size(item) + 1  # and its comma
        if chunk and (len(chunk) == MAX_SIGHTINGS or size + n > budget):
            out.append(SightingBatch(sightings=chunk))
            chunk, size = [], 0
        chunk.append(item)
        size += n
    if chunk:
        out.append(SightingBatch(sightings=chunk))
    return out


def store(
    s: Session,
    new: Sequence[Accepted],
    recognised: Recognised,
    placed: Placed,
    now: float,
    max_bytes: int,
) -> Stored:
    """Write the batch in ``s`` (not committed here); ``max_bytes``: the payload limit
    each sightings message must fit."""
    rows: list[dict[str, Any]] = []
    places: list[Placement] = []
    whos: list[Identity] = []
    crops: list[tuple[int, str, float | None]] = []  # (row, face crop, edge quality)
    for mi, (acc, placements) in enumerate(zip(new, placed.placements, strict=True)):
        b = acc.batch
        for di, (det, place) in enumerate(zip(b.detections, placements, strict=True)):
            who = recognised.of(mi, di)
            rows.append(
                {
                    "camera_id": b.camera_id,
                    "seq": b.seq,
                    "det_index": di,
                    "person_id": who.person_id,
                    "unknown_id": who.unknown_id,
                    "seen_at": b.captured_at,
                    "kind": det.kind,
                    "track_id": det.track_id,
                    "bbox_x": det.bbox.x,
                    "bbox_y": det.bbox.y,
                    "bbox_w": det.bbox.w,
                    "bbox_h": det.bbox.h,
                    "distance": who.distance,
                    "x": place.x,
                    "y": place.y,
                    "zone": place.zone,
                    "encoding": to_blob(det.encoding) if det.encoding else None,
                    "evidence": who.evidence,
                    "evidence_age_s": who.evidence_age_s,
                    "confidence": who.confidence,
                    "candidate_id": who.candidate_id,
                }
            )
            places.append(place)
            whos.append(who)
            if det.face_jpeg_b64 and (who.person_id is not None or who.unknown_id is not None):
                crops.append((len(rows) - 1, det.face_jpeg_b64, det.quality))
    # The hot path of the whole service: Core statements on the session's connection,
    # not ORM objects or ORM bulk inserts (that layer cost more than SQLite itself).
    conn = s.connection()
    update_identities(s, recognised.identity_updates)
    if new:
        conn.execute(
            insert(PROCESSED),
            [{"camera_id": a.batch.camera_id, "seq": a.batch.seq, "received_at": now} for a in new],
        )
    ids: list[int] = []
    if rows:
        # Not sort_by_parameter_order: on SQLite that sends one INSERT per row. The rows
        # come back in any order, keyed by their unique (camera, seq, detection index).
        c = SIGHTINGS.c
        got = {
            (cam, seq, di): sid
            for sid, cam, seq, di in conn.execute(
                insert(SIGHTINGS).returning(c.id, c.camera_id, c.seq, c.det_index), rows
            )
        }
        ids = [got[(r["camera_id"], r["seq"], r["det_index"])] for r in rows]
    if crops:  # rare (a track's first or better face): the ORM is cheap enough here
        store_crops(s, [(ids[i], b64, quality) for i, b64, quality in crops])
    # One message per commit unless they do not fit in one.
    items = [
        SightingMsg(
            person_key=place.person_key,
            identity=place.identity,
            label=place.label,
            camera_id=row["camera_id"],
            seen_at=row["seen_at"],
            sighting_id=sid,
            distance=min(row["distance"], 10.0) if row["distance"] is not None else None,
            x=place.x,
            y=place.y,
            zone=place.zone,
            evidence=who.evidence,
            evidence_age_s=who.evidence_age_s,
            candidate=who.candidate,
            confidence=min(max(who.confidence, 0.0), 1.0),
        )
        for row, place, who, sid in zip(rows, places, whos, ids, strict=True)
    ]
    out = [Outgoing(topics.sightings(), b) for b in sighting_batches(items, max_bytes)]
    return Stored(out, len(items))
