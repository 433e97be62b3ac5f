"""Turn accepted detection batches into identities, placements and stored sightings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from core import geometry
from core.anonymous import Anonymous, Travel
from core.observation import (
    LocatorResult,
    Observation,
    Placement,
    known_key,
    unidentified_key,
    unknown_key,
)
from core.recognition import Place
from core.store.codec import to_blob
from core.store.models import ProcessedMessage, Sighting
from core.track_identity import Verdict, view_weight
from srs.wire import topics
from srs.wire.payloads import (
    MAX_SIGHTINGS,
    Detection,
    DetectionBatch,
    Evidence,
    IdentityKind,
    SightingBatch,
)
from srs.wire.payloads import Sighting as SightingMsg

if TYPE_CHECKING:
    from core.ingest import Ingest, Outgoing

log = logging.getLogger(__name__)
PROCESSED = cast(Table, ProcessedMessage.__table__)
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
    distance: float | None = None  # of this detection's own encoding to its match
    evidence: Evidence = "unidentified"
    evidence_age_s: float | None = None
    candidate_id: int | None = None
    candidate: str | None = None


UNIDENTIFIED = Identity("unidentified", None, "Unidentified", 0.0)


def _place(ing: Ingest, camera_id: str, det: Detection, frame_width: int, at: float) -> Place:
    """Where a detection puts its person on the site plan, for the travel check."""
    site = getattr(ing.locator, "site", None)
    pose = site.camera(camera_id) if site is not None else None
    if pose is None:
        return Place(camera_id, None, None, at)
    est = geometry.estimate(pose, det.bbox, frame_width, det.kind)
    return Place(camera_id, est.x, est.y, at)


def recognise(s: Session, ing: Ingest, new: Sequence[Accepted]) -> dict[tuple[int, int], Identity]:
    """Who every detection of the batch is, and how sure (core/track_identity.py).

    One matrix product matches every encoding of the batch against the gallery; the
    matches vote in their tracks' evidence; unmatched tracks are clustered into
    anonymous identities by their pooled encodings (core/anonymous.py).
    """
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
    queries = np.asarray(vecs, dtype=np.float64).reshape(-1, 128)
    matched = ing.gallery.match(queries, np.asarray(limits), core.match_margin) if where else []
    encoded = {w: (vec, m) for w, vec, m in zip(where, queries, matched, strict=True)}
    book = ing.tracks
    anonymous = Anonymous(s, ing.clusters, Travel(core.walking_speed_mps, core.travel_slack_m))
    verdicts: dict[tuple[int, int], tuple[Verdict, float | None]] = {}
    for mi, acc in enumerate(new):
        b = acc.batch
        in_message: set[int] = set()  # two faces of one frame are never one identity
        frame = (b.frame_width, b.frame_height)
        for di, det in enumerate(b.detections):
            seg = book.segment(b.camera_id, det.track_id, det.bbox, b.captured_at, frame)
            here = None  # the site position, computed only for anonymous identities
            own = encoded.get((mi, di))
            match = None
            if own is not None:
                vec, match = own
                weight = view_weight(det.bbox, det.quality, book.rules.vote_face_px)
                seg = book.add_encoding(seg, vec, match, weight, b.captured_at)
                if seg.wants_anonymous():
                    if seg.unknown_id is not None and anonymous.known(seg.unknown_id):
                        dist = anonymous.join(seg.unknown_id, vec)
                    else:
                        pooled = seg.pooled()
                        assert pooled is not None  # wants_anonymous: it has encodings
                        exclude = in_message | book.co_present(seg)
                        here = _place(ing, b.camera_id, det, b.frame_width, b.captured_at)
                        seg.unknown_id, dist = anonymous.assign(pooled, here, exclude)
                    book.support(seg, b.captured_at, dist)
            verdict = book.verdict(seg, b.captured_at, match)
            if verdict.unknown_id is not None:
                in_message.add(verdict.unknown_id)
                if here is None:
                    here = _place(ing, b.camera_id, det, b.frame_width, b.captured_at)
                anonymous.seen(verdict.unknown_id, here)
            verdicts[(mi, di)] = (verdict, match.distance if match is not None else None)
    real = anonymous.finish()
    book.remap_unknown(real)
    return {w: _identity(ing, v, real, distance) for w, (v, distance) in verdicts.items()}


def _identity(ing: Ingest, v: Verdict, real: dict[int, int], distance: float | None) -> Identity:
    conf = round(v.confidence, 4)
    age = None if v.age_s is None else round(v.age_s, 3)
    candidate = None
    if v.candidate_id is not None:
        candidate = ing.names.get(v.candidate_id, known_key(v.candidate_id))
    if v.person_id is not None:
        pid = v.person_id
        return Identity(
            "known",
            known_key(pid),
            ing.names.get(pid, known_key(pid)),
            conf,
            person_id=pid,
            distance=distance,
            evidence=v.evidence,
            evidence_age_s=age,
        )
    if v.unknown_id is not None:
        uid = real.get(v.unknown_id, v.unknown_id)
        return Identity(
            "unknown",
            unknown_key(uid),
            f"Unknown {uid}",
            conf,
            unknown_id=uid,
            distance=distance,
            evidence=v.evidence,
            evidence_age_s=age,
            candidate_id=v.candidate_id,
            candidate=candidate,
        )
    return Identity(
        "unidentified",
        None,
        "Unidentified",
        conf,
        distance=distance,
        evidence=v.evidence,
        evidence_age_s=age,
        candidate_id=v.candidate_id,
        candidate=candidate,
    )


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
