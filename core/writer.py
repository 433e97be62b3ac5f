"""Turn accepted detection batches into identities, placements and stored sightings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, case, insert, update
from sqlalchemy.orm import Session

from core.observation import (
    LocatorResult,
    Observation,
    Placement,
    known_key,
    unidentified_key,
    unknown_key,
)
from core.store.codec import parse_key, to_blob
from core.store.models import ProcessedMessage, Sighting, UnknownIdentity
from srs.wire import topics
from srs.wire.payloads import MAX_SIGHTINGS, DetectionBatch, IdentityKind, SightingBatch
from srs.wire.payloads import Sighting as SightingMsg

if TYPE_CHECKING:
    from core.ingest import Ingest, Outgoing

log = logging.getLogger(__name__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
UNKNOWNS = cast(Table, UnknownIdentity.__table__)
SIGHTINGS = cast(Table, Sighting.__table__)


@dataclass(frozen=True, slots=True)
class Accepted:
    batch: DetectionBatch
    received_at: float


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    key: str | None
    label: str
    confidence: float
    person_id: int | None = None
    unknown_id: int | None = None
    distance: float | None = None


UNIDENTIFIED = Identity("unidentified", None, "Unidentified", 0.0)


def _confidence(distance: float) -> float:
    return float(min(1.0, max(0.0, 1.0 - distance)))


def recognise(s: Session, ing: Ingest, new: Sequence[Accepted]) -> dict[tuple[int, int], Identity]:
    """Name every face of the batch (one matrix product) or give it an anonymous identity."""
    core = ing.cfg.core
    where: list[tuple[int, int]] = []
    vecs: list[list[float]] = []
    limits: list[float] = []
    for mi, acc in enumerate(new):
        limit = core.camera_thresholds.get(acc.batch.camera_id, core.match_threshold)
        small_limit = min(limit, core.small_face_threshold)
        for di, det in enumerate(acc.batch.detections):
            if det.kind == "face" and det.encoding is not None:
                where.append((mi, di))
                vecs.append(det.encoding)
                limits.append(small_limit if det.bbox.w < core.small_face_px else limit)
    out: dict[tuple[int, int], Identity] = {}
    if not where:
        return out
    queries = np.asarray(vecs, dtype=np.float64)
    matches = ing.gallery.match(queries, np.asarray(limits), core.match_margin)
    anonymous = _Anonymous(s, ing)
    for (mi, di), match, vec in zip(where, matches, queries, strict=True):
        if match.person_id is not None:
            pid = match.person_id
            out[(mi, di)] = Identity(
                "known",
                known_key(pid),
                ing.names.get(pid, known_key(pid)),
                _confidence(match.distance),
                person_id=pid,
                distance=match.distance,
            )
        else:
            anonymous.assign((mi, di), vec, new[mi].batch.captured_at)
    out.update(anonymous.finish())
    return out


class _Anonymous:
    """Groups unnamed faces into anonymous identities with one flush per batch."""

    def __init__(self, s: Session, ing: Ingest) -> None:
        self.s, self.clusters = s, ing.clusters
        self.new_rows: dict[int, UnknownIdentity] = {}  # provisional (negative) id -> row
        self.assigned: list[tuple[tuple[int, int], int, float]] = []
        # Stored identities seen again: id -> (centroid, faces added, last seen). Written
        # with one UPDATE per batch, without loading each row first.
        self.joined: dict[int, tuple[np.ndarray, int, float]] = {}

    def assign(self, where: tuple[int, int], vec: np.ndarray, seen_at: float) -> None:
        clusters = self.clusters
        near = clusters.nearest(vec)
        if near is not None:
            index, dist = near
            centroid = clusters.join(index, vec)
            uid = clusters.ids[index]
            row = self.new_rows.get(uid)
            if row is not None:
                row.centroid = to_blob(centroid)
                row.count += 1
                row.last_seen = max(row.last_seen, seen_at)
            else:
                _, added, last = self.joined.get(uid, (centroid, 0, seen_at))
                self.joined[uid] = (centroid, added + 1, max(last, seen_at))
        else:
            uid, dist = -(len(self.new_rows) + 1), 0.0
            row = UnknownIdentity(
                centroid=to_blob(vec), count=1, first_seen=seen_at, last_seen=seen_at
            )
            self.s.add(row)
            self.new_rows[uid] = row
            clusters.add(uid, vec)
        self.assigned.append((where, uid, dist))

    def finish(self) -> dict[tuple[int, int], Identity]:
        if self.joined:
            t = UNKNOWNS.c
            self.s.connection().execute(
                update(UNKNOWNS)
                .where(t.id == bindparam("uid"))
                .values(
                    centroid=bindparam("c"),
                    count=t.count + bindparam("n"),
                    last_seen=case(
                        (t.last_seen > bindparam("seen"), t.last_seen), else_=bindparam("seen")
                    ),
                ),  # portable max of two
                [
                    {"uid": uid, "c": to_blob(c), "n": n, "seen": seen}
                    for uid, (c, n, seen) in self.joined.items()
                ],
            )
        if self.new_rows:
            self.s.flush()  # one INSERT round for every new identity of the batch
            real = {tmp: row.id for tmp, row in self.new_rows.items()}
            self.clusters.ids = [real.get(i, i) for i in self.clusters.ids]
        else:
            real = {}
        out = {}
        for where, uid, dist in self.assigned:
            uid = real.get(uid, uid)
            out[where] = Identity(
                "unknown",
                unknown_key(uid),
                f"Unknown {uid}",
                _confidence(dist),
                unknown_id=uid,
                distance=dist,
            )
        return out


def _locate(ing: Ingest, obs: list[Observation], now: float) -> LocatorResult:
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
    s: Session, ing: Ingest, new: Sequence[Accepted], outgoing: list[Outgoing]
) -> dict[str, int]:
    from core.ingest import Outgoing

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
    for mi, (acc, placements) in enumerate(zip(new, placed, strict=True)):
        b = acc.batch
        for di, (det, place) in enumerate(zip(b.detections, placements, strict=True)):
            who = idents.get((mi, di), UNIDENTIFIED)
            pid, uid = who.person_id, who.unknown_id
            if who.kind == "unidentified":  # a profile may continue a named face track
                parsed = parse_key(place.person_key)
                if parsed is not None:
                    pid = parsed[1] if parsed[0] == "known" else None
                    uid = parsed[1] if parsed[0] == "unknown" else None
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
                }
            )
            places.append(place)
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
        )
        for row, place, sid in zip(rows, places, ids, strict=True)
    ]
    max_bytes = min(ing.cfg.security.max_payload_bytes, ing.cfg.broker.max_payload_bytes)
    outgoing.extend(Outgoing(topics.sightings(), b) for b in sighting_batches(items, max_bytes))
    known = sum(1 for i in idents.values() if i.kind == "known")
    return {"matched": known, "unknown": len(idents) - known}
