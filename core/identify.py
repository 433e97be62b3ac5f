"""Who each detection of a batch is, and how sure: gallery, track evidence, clusters.

The recognise stage of the pipeline: accepted batches in, an :class:`Identity` per
detection out (``Recognised``), with no database session. It changes core's memory
(the tracks' evidence, the anonymous clusters) and returns what the store stage
must write; new anonymous identities get their ids from the ``allocate`` function it
is given (core/anonymous.py). Should the batch not be stored, the ingest rolls the
tracks back and reloads the clusters from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import numpy as np

from core import geometry
from core.anonymous import Allocate, Anonymous, Row, Travel
from core.identity_limit import NewIdentityLimit
from core.messages import Accepted
from core.observation import Locator, known_key, unknown_key
from core.recognition import Gallery, Match, Place, UnknownClusters
from core.srs_config import SrsConfig
from core.track_identity import TrackBook, Verdict, view_weight
from srs.wire.payloads import Detection, Evidence, IdentityKind


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    key: str | None
    label: str
    confidence: float
    person_id: int | None = None
    unknown_id: int | None = None
    distance: float | None = None  # this detection's own encoding to whom it is named
    evidence: Evidence = "unidentified"
    evidence_age_s: float | None = None
    candidate_id: int | None = None
    candidate: str | None = None


UNIDENTIFIED = Identity("unidentified", None, "Unidentified", 0.0)
Where = tuple[int, int]  # (message index, detection index) in the batch


@dataclass(slots=True)
class Recognised:
    """The recognise stage's output: who each detection is, and what to store."""

    identities: dict[Where, Identity] = field(default_factory=dict)
    identity_updates: list[Row] = field(default_factory=list)  # anonymous ones seen again
    limited: int = 0  # faces left unidentified: their camera made new identities too fast

    def of(self, mi: int, di: int) -> Identity:
        return self.identities.get((mi, di), UNIDENTIFIED)

    @property
    def matched(self) -> int:
        return sum(1 for i in self.identities.values() if i.kind == "known")


class Recognising(Protocol):
    """What recognition reads of core's state (core.ingest.Ingest holds it)."""

    cfg: SrsConfig
    locator: Locator
    gallery: Gallery
    names: dict[int, str]
    clusters: UnknownClusters
    tracks: TrackBook
    new_identities: NewIdentityLimit


def _place(ing: Recognising, camera_id: str, det: Detection, frame_width: int, at: float) -> Place:
    """Where a detection puts its person on the site plan, for the travel check."""
    site = getattr(ing.locator, "site", None)
    pose = site.camera(camera_id) if site is not None else None
    if pose is None:
        return Place(camera_id, None, None, at)
    est = geometry.estimate(pose, det.bbox, frame_width, det.kind)
    return Place(camera_id, est.x, est.y, at)


def recognise(ing: Recognising, new: Sequence[Accepted], allocate: Allocate) -> Recognised:
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
    anonymous = Anonymous(ing.clusters, Travel(core.walking_speed_mps, core.travel_slack_m))
    verdicts: dict[Where, tuple[Verdict, float | None]] = {}
    limited = 0  # faces refused a new identity by their camera's rate
    for mi, acc in enumerate(new):
        b = acc.batch
        in_message: set[int] = set()  # two faces of one frame are never one identity
        frame = (b.frame_width, b.frame_height)
        for di, det in enumerate(b.detections):
            seg = book.segment(b.camera_id, det.track_id, det.bbox, b.captured_at, frame)
            here = None  # the site position, computed only for anonymous identities
            own = encoded.get((mi, di))
            match, dist = None, None
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
                        may_create = partial(ing.new_identities.allow, b.camera_id)
                        got = anonymous.assign(pooled, here, exclude, may_create)
                        if got is None:  # over the camera's rate: the face stays unidentified
                            seg.unknown_id = None
                            limited += 1
                        else:
                            seg.unknown_id, dist = got
                    if dist is not None:
                        book.support(seg, b.captured_at, dist)
            verdict = book.verdict(seg, b.captured_at, match)
            if verdict.unknown_id is not None:
                in_message.add(verdict.unknown_id)
                if here is None:
                    here = _place(ing, b.camera_id, det, b.frame_width, b.captured_at)
                anonymous.seen(verdict.unknown_id, here)
            verdicts[(mi, di)] = (verdict, _distance(verdict, match, dist))
    done = anonymous.finish(allocate)
    book.remap_unknown(done.real)
    return Recognised(
        {w: _identity(ing, v, done.real, distance) for w, (v, distance) in verdicts.items()},
        done.updates,
        limited,
    )


def _distance(v: Verdict, match: Match | None, to_centroid: float | None) -> float | None:
    """The sighting's ``distance``: its own encoding's, to whom the sighting names
    (the person, the candidate, or the anonymous identity's centroid); else None."""
    if match is None or v.evidence not in ("matched", "possible"):
        return None
    if v.person_id is not None or v.candidate_id is not None:
        named = match.candidate_id is not None and match.candidate_id in (
            v.person_id,
            v.candidate_id,
        )
        return match.distance if named else None
    return to_centroid


def _identity(
    ing: Recognising, v: Verdict, real: dict[int, int], distance: float | None
) -> Identity:
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
