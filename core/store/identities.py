"""Anonymous identities as staff (and core itself) correct them: merge and split.

- :func:`merge_keys` is the one merge every caller uses: two anonymous identities
  become one, an anonymous identity merged into a person is named after them, two
  people become one (:func:`core.store.people.merge_people`).
- :func:`split_identity` moves part of an identity's sightings (one camera, one
  track, or one track from a sighting onwards) into a new anonymous identity.
- :func:`merge_close_identities` is core's own later merge: identities whose
  centroids came within ``merge_distance`` and that were never seen together, nor
  in places nobody could walk between in the time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.observation import TOGETHER_S, known_key, unknown_key
from core.store.audit import GALLERY, audit, bump
from core.store.codec import from_blob, parse_key, to_blob
from core.store.errors import StoreError
from core.store.models import FaceEncoding, NegativeExample, Sighting, UnknownIdentity
from core.store.people import _clear_later, find_person, merge_people, name_identity

MAX_VECTORS = 200  # encodings read to recompute one centroid
MAX_NEGATIVES = 20  # encodings a split of a person teaches as "not this person"


@dataclass(frozen=True)
class Merged:
    """What a merge changed: the live view republishes ``old_key`` as ``new_key``."""

    old_key: str
    new_key: str
    label: str
    identity: str  # "known" or "unknown"

    def as_dict(self) -> dict[str, str]:
        return {"person_key": self.new_key, "name": self.label, "merged": self.old_key}


def _identity(s: Session, key: str) -> UnknownIdentity:
    parsed = parse_key(key)
    if parsed is None or parsed[0] != "unknown":
        raise StoreError(f"{key!r} is not an anonymous identity key (such as u7)")
    ident = s.get(UnknownIdentity, parsed[1])
    if ident is None:
        raise StoreError(f"no anonymous identity {key!r}")
    return ident


def merge_keys(s: Session, source: str, target: str, *, actor: str = "cli") -> Merged:
    """Merge ``source`` into ``target`` (keys, or names/ids of people); see the module."""
    src, dst = parse_key(source), parse_key(target)
    if src is not None and src[0] == "unknown":
        if dst is not None and dst[0] == "unknown":
            ident = merge_identities(s, source, target, actor=actor)
            return Merged(source, unknown_key(ident.id), f"Unknown {ident.id}", "unknown")
        person = name_identity(s, source, find_person(s, target).name, actor=actor)
        return Merged(source, known_key(person.id), person.name, "known")
    if dst is not None and dst[0] == "unknown":
        raise StoreError(
            "a person cannot be merged into an anonymous identity: "
            f"merge {target} into the person instead"
        )
    old = known_key(find_person(s, source).id)
    person = merge_people(s, source, target, actor=actor)
    return Merged(old, known_key(person.id), person.name, "known")


def merge_identities(s: Session, source: str, target: str, *, actor: str) -> UnknownIdentity:
    """Two anonymous identities are one person: ``source``'s sightings go to ``target``."""
    src, dst = _identity(s, source), _identity(s, target)
    if src.id == dst.id:
        raise StoreError("cannot merge an identity into itself")
    n_src, n_dst = max(src.count, 1), max(dst.count, 1)
    centroid = (from_blob(src.centroid) * n_src + from_blob(dst.centroid) * n_dst) / (n_src + n_dst)
    s.execute(update(Sighting).where(Sighting.unknown_id == src.id).values(unknown_id=dst.id))
    dst.centroid, dst.count = to_blob(centroid), src.count + dst.count
    dst.first_seen = min(src.first_seen, dst.first_seen)
    if src.last_seen > dst.last_seen:
        dst.last_seen, dst.last_camera = src.last_seen, src.last_camera
        dst.last_x, dst.last_y = src.last_x, src.last_y
    audit(
        s, "admin", actor, "merge_identities", f"{unknown_key(src.id)} into {unknown_key(dst.id)}"
    )
    _clear_later(s, unknown_key(src.id))
    s.delete(src)
    bump(s, GALLERY)
    return dst


def _mean(blobs: Sequence[bytes | None]) -> np.ndarray | None:
    vecs = [from_blob(b) for b in blobs if b is not None]
    return np.mean(vecs, axis=0) if vecs else None


def split_identity(
    s: Session,
    key: str,
    *,
    camera_id: str | None = None,
    track_id: int | None = None,
    from_sighting: int | None = None,
    actor: str = "cli",
) -> dict[str, object]:
    """Move some of ``key``'s sightings into a new anonymous identity.

    Which: those of ``camera_id`` and/or ``track_id``; ``from_sighting`` alone means
    that sighting's camera and track from it onwards (a track that went wrong at
    some point). Splitting from a person also teaches the moved encodings as "not
    this person" (negative examples), as rejecting each sighting would.
    """
    parsed = parse_key(key)
    if parsed is None:
        raise StoreError(f"{key!r} is not a person key (p3) or identity key (u7)")
    column = Sighting.person_id if parsed[0] == "known" else Sighting.unknown_id
    owner = parsed[1]
    if parsed[0] == "known":
        find_person(s, key)
    else:
        _identity(s, key)
    conds = [column == owner]
    if from_sighting is not None:
        first = s.get(Sighting, from_sighting)
        if first is None or getattr(first, column.key) != owner:
            raise StoreError(f"sighting {from_sighting} is not one of {key}")
        conds.append(Sighting.seen_at >= first.seen_at)
        camera_id = first.camera_id if camera_id is None else camera_id
        track_id = first.track_id if track_id is None else track_id
    if camera_id is None and track_id is None:
        raise StoreError("say which sightings to split off: a camera, a track or a sighting")
    if camera_id is not None:
        conds.append(Sighting.camera_id == camera_id)
    if track_id is not None:
        conds.append(Sighting.track_id == track_id)
    moved = list(s.execute(select(Sighting.id, Sighting.seen_at).where(*conds)))
    if not moved:
        raise StoreError(f"no sighting of {key} matches")
    total = s.scalar(select(func.count()).select_from(Sighting).where(column == owner)) or 0
    if parsed[0] == "unknown" and len(moved) == total:
        raise StoreError(f"that is every sighting of {key}: nothing would be left to split from")
    ids = [sid for sid, _ in moved]
    encs = [
        b
        for (b,) in s.execute(
            select(Sighting.encoding)
            .where(Sighting.id.in_(ids), Sighting.encoding.is_not(None))
            .limit(MAX_VECTORS)
        )
    ]
    centroid = _mean(encs)
    if centroid is None:  # nothing encoded moved: start from what the source looked like
        centroid = _source_centroid(s, parsed[0], owner)
    seen = [t for _, t in moved]
    new = UnknownIdentity(
        centroid=to_blob(centroid),
        count=max(1, len(encs)),
        first_seen=min(seen),
        last_seen=max(seen),
    )
    s.add(new)
    s.flush()
    s.execute(
        update(Sighting).where(Sighting.id.in_(ids)).values(person_id=None, unknown_id=new.id)
    )
    if parsed[0] == "known":
        for blob in [b for b in encs if b is not None][:MAX_NEGATIVES]:
            s.add(NegativeExample(person_id=owner, vector=blob, created_at=time.time()))
    else:
        _recentre(s, owner)
    audit(s, "admin", actor, "split_identity", f"{len(ids)} sighting(s) of {key} to u{new.id}")
    bump(s, GALLERY)
    return {"person_key": key, "new_key": unknown_key(new.id), "moved": len(ids)}


def _source_centroid(s: Session, kind: str, owner: int) -> np.ndarray:
    if kind == "unknown":
        ident = s.get(UnknownIdentity, owner)
        assert ident is not None
        return from_blob(ident.centroid)
    vecs = [
        b for (b,) in s.execute(select(FaceEncoding.vector).where(FaceEncoding.person_id == owner))
    ]
    mean = _mean(vecs)
    if mean is None:
        raise StoreError("nothing to start the new identity from: no encodings at all")
    return mean


def _recentre(s: Session, uid: int) -> None:
    """An identity lost sightings: its centroid is the mean of what it keeps."""
    ident = s.get(UnknownIdentity, uid)
    kept = [
        b
        for (b,) in s.execute(
            select(Sighting.encoding)
            .where(Sighting.unknown_id == uid, Sighting.encoding.is_not(None))
            .order_by(Sighting.seen_at.desc())
            .limit(MAX_VECTORS)
        )
    ]
    mean = _mean(kept)
    if ident is not None and mean is not None:
        ident.centroid, ident.count = to_blob(mean), len(kept)


MAX_COMPARED = 5000  # most recent sightings per identity compared before a merge


def could_be_one(s: Session, a: int, b: int, speed_mps: float = 2.5, slack_m: float = 3.0) -> bool:
    """Could identities ``a`` and ``b`` be one person, by where and when they were seen?

    No if one camera saw both within TOGETHER_S, or if, walking through their
    sightings in time order, one of them is followed by the other somewhere nobody
    could walk to in between (``speed_mps`` x seconds + ``slack_m``; positions from
    the sightings, so only sightings with a position can refuse)."""
    seen: list[tuple[float, str, float | None, float | None, int]] = []
    for uid in (a, b):
        seen += [
            (r.seen_at, r.camera_id, r.x, r.y, uid)
            for r in s.execute(
                select(Sighting.seen_at, Sighting.camera_id, Sighting.x, Sighting.y)
                .where(Sighting.unknown_id == uid)
                .order_by(Sighting.seen_at.desc())
                .limit(MAX_COMPARED)
            )
        ]
    seen.sort(key=lambda r: r[0])
    last: dict[int, tuple[float, str, float | None, float | None]] = {}
    for at, cam, x, y, uid in seen:
        other = last.get(b if uid == a else a)
        if other is not None:
            o_at, o_cam, ox, oy = other
            dt = at - o_at
            if cam == o_cam and dt <= TOGETHER_S:
                return False
            if cam != o_cam and None not in (x, y, ox, oy):
                assert x is not None and y is not None and ox is not None and oy is not None
                if math.hypot(x - ox, y - oy) > speed_mps * dt + slack_m:
                    return False
        last[uid] = (at, cam, x, y)
    return True


def merge_close_identities(
    s: Session,
    merge_distance: float,
    speed_mps: float = 2.5,
    slack_m: float = 3.0,
    *,
    seen_since: float | None = None,
) -> list[Merged]:
    """Core's later merge: identities within ``merge_distance`` that could be one
    person by where and when they were seen (:func:`could_be_one`).

    ``seen_since``: compare only identities seen since then (their centroids moved)
    with all others: the periodic run stays small however many identities the store
    holds. The older identity (smaller id) absorbs the newer; each identity merges
    at most once per call (the merged centroid is compared afresh next time).
    """
    u = UnknownIdentity
    rows = s.execute(select(u.id, u.centroid, u.last_seen)).all()
    if len(rows) < 2:
        return []
    ids = np.array([r[0] for r in rows])
    vecs = np.array([from_blob(r[1]) for r in rows], dtype=np.float64)
    recent = np.array([seen_since is None or r[2] >= seen_since for r in rows])
    sq = (vecs**2).sum(axis=1)
    pairs: set[tuple[float, int, int]] = set()
    for q in np.flatnonzero(recent):
        d2 = sq + sq[q] - 2.0 * (vecs @ vecs[q])  # one row: memory stays O(n)
        for j in np.flatnonzero(d2 <= merge_distance**2).tolist():
            if j != q:
                a, b = sorted((int(ids[q]), int(ids[j])))
                pairs.add((round(float(d2[j]), 9), a, b))
    done: set[int] = set()
    out: list[Merged] = []
    for _, a, b in sorted(pairs):
        if a in done or b in done or not could_be_one(s, a, b, speed_mps, slack_m):
            continue
        merge_identities(s, unknown_key(b), unknown_key(a), actor="core")
        done |= {a, b}
        out.append(Merged(unknown_key(b), unknown_key(a), f"Unknown {a}", "unknown"))
    return out
