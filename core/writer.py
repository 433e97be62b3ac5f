"""Turn accepted detection batches into identities, placements and stored sightings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from core.faces import store_crops
from core.identify import UNIDENTIFIED, Identity, Recognising, recognise
from core.messages import Accepted, Outgoing
from core.observation import LocatorResult, Observation, Placement, unidentified_key
from core.store.codec import to_blob
from core.store.models import ProcessedMessage, Sighting
from srs.wire import topics
from srs.wire.payloads import MAX_SIGHTINGS, SightingBatch
from srs.wire.payloads import Sighting as SightingMsg

log = logging.getLogger(__name__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
SIGHTINGS = cast(Table, Sighting.__table__)


class Writing(Recognising, Protocol):
    """What storing a batch reads of core's state (core.ingest.Ingest holds it)."""

    clock: Callable[[], float]
    # Publishes a batch's live view before its commit; None: it goes with the rest.
    on_live: Callable[[list[Outgoing]], None] | None


def _locate(ing: Writing, obs: list[Observation], now: float) -> LocatorResult:
    try:
        res = ing.locator.observe(obs, now)
        if len(res.placements) == len(obs):
            return res
        log.error(
            "locator returned %d placements for %d observations; ignoring them",
            len(res.placements),
            len(obs),
        )
    except Exception:
        log.exception("locator failed; sightings are stored without a position")
    return LocatorResult(
        placements=[
            Placement(
                o.person_key or unidentified_key(o.camera_id, o.track_id),
                o.identity,
                o.label,
                None,
                None,
                None,
            )
            for o in obs
        ]
    )


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


def write_batch(
    s: Session, ing: Writing, new: Sequence[Accepted], outgoing: list[Outgoing]
) -> dict[str, int]:
    idents = recognise(s, ing, new)
    now = ing.clock()
    placed: list[list[Placement]] = []
    live: list[Outgoing] = []
    for mi, acc in enumerate(new):
        b = acc.batch
        obs = []
        for di, det in enumerate(b.detections):
            who = idents.get((mi, di), UNIDENTIFIED)
            obs.append(
                Observation(
                    b.camera_id,
                    det.track_id,
                    det.kind,
                    det.bbox,
                    b.frame_width,
                    b.frame_height,
                    b.captured_at,
                    who.kind,
                    who.key,
                    who.label,
                    who.confidence,
                    evidence=who.evidence,
                    evidence_age_s=who.evidence_age_s,
                    candidate=who.candidate,
                )
            )
        res = _locate(ing, obs, now)
        placed.append(res.placements)
        live.extend(Outgoing(topics.position(p.person_key), p, retain=True) for p in res.positions)
        live.extend(Outgoing(topics.zone_events(), z) for z in res.zone_events)
        live.extend(Outgoing(topics.alerts(), a) for a in res.alerts)
    # Positions, zone events and alerts are the live view: they go out now, before the
    # store rows are even built, because they need nothing the commit creates and every
    # millisecond shows on a screen. Should the commit fail, the camera re-sends (no
    # ack) and they are published again. Acks and sightings (with their stored ids)
    # wait for it.
    if ing.on_live is not None:
        ing.on_live(live)
    else:
        outgoing.extend(live)
    rows: list[dict[str, Any]] = []
    places: list[Placement] = []
    whos: list[Identity] = []
    crops: list[tuple[int, str, float | None]] = []  # (row, face crop, edge quality)
    for mi, (acc, placements) in enumerate(zip(new, placed, strict=True)):
        b = acc.batch
        for di, (det, place) in enumerate(zip(b.detections, placements, strict=True)):
            who = idents.get((mi, di), UNIDENTIFIED)
            pid, uid = who.person_id, who.unknown_id
            rows.append(
                {
                    "camera_id": b.camera_id,
                    "seq": b.seq,
                    "det_index": di,
                    "person_id": pid,
                    "unknown_id": uid,
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
            if det.face_jpeg_b64 and (pid is not None or uid is not None):
                crops.append((len(rows) - 1, det.face_jpeg_b64, det.quality))
    # The hot path of the whole service: Core statements on the session's connection,
    # not ORM objects or ORM bulk inserts (that layer cost more than SQLite itself).
    s.flush()
    conn = s.connection()
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
    # Last, after the positions (the latency-critical output); one message per commit
    # unless they do not fit in one.
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
    max_bytes = min(ing.cfg.security.max_payload_bytes, ing.cfg.broker.max_payload_bytes)
    outgoing.extend(Outgoing(topics.sightings(), b) for b in sighting_batches(items, max_bytes))
    known = sum(1 for i in idents.values() if i.kind == "known")
    return {"matched": known, "unknown": len(idents) - known}
