"""Per-track identity evidence: a name is earned by a track's encodings, and expires.

The edge follows a head across frames (``track_id`` per camera) and sends an
encoding only now and then (a frontal face, about every 2 s); profiles and most
frames carry none. Core keeps one :class:`Segment` of evidence per (camera, track):

- **Votes.** Every encoding of the segment is matched against the gallery (one
  matrix product per batch, in the writer) and votes for the person it matches
  with weight ``size x quality x strength``: ``size`` = face width / ``vote_face_px``
  (at most 1), ``quality`` = the edge's quality / 0.5 (at most 1; 1 when not sent),
  ``strength`` = 1 within ``strong_match_distance`` (0.45), then falling linearly
  to 0.25 at ``match_threshold`` (0.6): 0.5 at 0.55 (a weak match, still within the
  threshold and margin). A step at 0.45 made a view at 0.453 worth half one at
  0.443 (measured on the pair clip: the man went unnamed for 50 frames for it).
  An encoding that matches nobody counts half its weight *against* every name.
- **Named.** The segment is person X when X's votes reach 1.0 (one strong view of a
  full-size good face, or two weak ones, or several small ones) and are at least
  twice everything else (other people's votes plus the "against" weight).
  Less than that is "possibly X": not stored or published as X, X is only the
  ``candidate``.
- **Carried.** A detection without an encoding keeps the segment's identity only
  while the track is continuous (box centre moves at most ``track_jump`` box sizes
  from the previous detection, the width changes by at most 2.5x (as the edge's
  ``track_max_scale``: Haar's box of one turning head jumps 2.2x), the frame size
  stays the same, no gap longer than ``identity_carry_s``) and for
  ``identity_carry_s`` after the last encoding that supported the identity; after
  that it is "unidentified", not a guess.
- **Split.** A fresh encoding farther than ``split_distance`` from the segment's
  pooled encoding, or clearly matching a different person than the segment's name,
  is somebody else: the segment ends (the past keeps its name) and a new one
  starts with this encoding. The old identity is never lent to the new face.

All of this is in memory (tracks live seconds). A batch that fails to commit is
undone with :meth:`TrackBook.rollback`, so no identity of an uncommitted batch
survives in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from core.config import CoreConfig
from core.observation import TOGETHER_S
from core.recognition import Match
from srs.wire.payloads import BBox, Evidence

TrackKey = tuple[str, int]  # (camera id, track id)

NAME_VOTES = 1.0  # votes a person needs to name a segment
DOMINANCE = 2.0  # ... and at least this many times all contrary evidence
FAR_STRENGTH = 0.25  # strength of a match at the match threshold (see strength())
ABSTAIN = 0.5  # an encoding matching nobody counts this share of its weight against
FULL_QUALITY = 0.5  # edge quality at or above this counts fully
MAX_SIZE_CHANGE = 2.5  # a box growing or shrinking more than this between detections
CARRY_FLOOR = 0.5  # confidence of a carried identity decays to this share of the match's


@dataclass(frozen=True, slots=True)
class EvidenceRules:
    strong_distance: float = 0.45
    vote_face_px: int = 60
    split_distance: float = 0.55
    carry_s: float = 4.0
    jump: float = 1.5
    match_threshold: float = 0.6

    @classmethod
    def from_config(cls, core: CoreConfig) -> EvidenceRules:
        return cls(
            core.strong_match_distance,
            core.vote_face_px,
            core.split_distance,
            core.identity_carry_s,
            core.track_jump,
            core.match_threshold,
        )

    def strength(self, distance: float) -> float:
        """How much a match at ``distance`` counts: 1 up to the strong distance, then
        down to FAR_STRENGTH at the match threshold."""
        if distance <= self.strong_distance:
            return 1.0
        span = max(self.match_threshold - self.strong_distance, 1e-6)
        return max(
            FAR_STRENGTH, 1.0 - (1.0 - FAR_STRENGTH) * (distance - self.strong_distance) / span
        )


def view_weight(bbox: BBox, quality: float | None, vote_face_px: int) -> float:
    """How much one view counts: its face size and quality, each capped at 1."""
    size = min(1.0, bbox.w / vote_face_px)
    q = 1.0 if quality is None else min(1.0, quality / FULL_QUALITY)
    return size * q


@dataclass(slots=True)
class Segment:
    """The evidence of one continuous stretch of one track (one face)."""

    camera_id: str
    track_id: int
    first_seen: float
    last_seen: float
    bbox: BBox
    pool: np.ndarray | None = None  # weighted sum of the encodings
    pool_weight: float = 0.0
    votes: dict[int, float] = field(default_factory=dict)  # person id -> votes
    against: float = 0.0
    person_id: int | None = None  # named: the votes dominate
    unknown_id: int | None = None  # anonymous identity of the pooled encodings
    supported_at: float | None = None  # last encoding supporting the lead identity
    support_conf: float = 0.0  # 1 - distance of that encoding
    # Anonymous identities this face may not join: the one of the face this track
    # followed before a split.
    excluded: frozenset[int] = frozenset()
    frame: tuple[int, int] | None = None  # the frame size: another size, another picture

    def pooled(self) -> np.ndarray | None:
        if self.pool is None or self.pool_weight <= 0.0:
            return None
        return self.pool / self.pool_weight

    def lead(self) -> int | None:
        """The named person, else the person with the most votes (the candidate)."""
        if self.person_id is not None:
            return self.person_id
        return max(self.votes, key=self.votes.__getitem__) if self.votes else None

    def wants_anonymous(self) -> bool:
        """Unnamed and mostly matching nobody: a stranger, clustered anonymously."""
        if self.person_id is not None or self.pool is None:
            return False
        return not self.votes or self.against > max(self.votes.values())

    def copy(self) -> Segment:
        return replace(self, votes=dict(self.votes))  # pool is replaced, never edited in place


@dataclass(frozen=True, slots=True)
class Verdict:
    """Who one detection is, and how sure: what the sighting stores."""

    evidence: Evidence
    person_id: int | None = None
    unknown_id: int | None = None
    candidate_id: int | None = None
    confidence: float = 0.0
    age_s: float | None = None


UNIDENTIFIED = Verdict("unidentified")


class TrackBook:
    """The live segments, one per (camera, track), with batch undo."""

    def __init__(self, rules: EvidenceRules) -> None:
        self.rules = rules
        self._segs: dict[TrackKey, Segment] = {}
        self._undo: dict[TrackKey, Segment | None] = {}
        self._latest: dict[str, float] = {}  # camera -> newest detection time

    def __len__(self) -> int:
        return len(self._segs)

    # --- batches ----------------------------------------------------------------

    def commit(self) -> None:
        self._undo.clear()

    def rollback(self) -> None:
        """Forget every change since the last commit (the batch was not stored)."""
        for key, old in self._undo.items():
            if old is None:
                self._segs.pop(key, None)
            else:
                self._segs[key] = old
        self._undo.clear()

    def _touch(self, key: TrackKey) -> None:
        if key not in self._undo:
            old = self._segs.get(key)
            self._undo[key] = old.copy() if old is not None else None

    # --- evidence ---------------------------------------------------------------

    def segment(
        self,
        camera_id: str,
        track_id: int,
        bbox: BBox,
        seen_at: float,
        frame: tuple[int, int] | None = None,
    ) -> Segment:
        """The track's segment for this detection: the current one if the track is
        continuous, else a new one (no evidence). ``frame``: the frame's size; a track
        continuing into a frame of another size (the next still of a folder) is not
        continuous, whatever the edge says."""
        key = (camera_id, track_id)
        self._touch(key)
        if seen_at > self._latest.get(camera_id, -math.inf):
            self._latest[camera_id] = seen_at
        seg = self._segs.get(key)
        if seg is None or seg.frame != frame or not self._continuous(seg, bbox, seen_at):
            seg = Segment(camera_id, track_id, seen_at, seen_at, bbox, frame=frame)
            self._segs[key] = seg
            return seg
        seg.last_seen = max(seg.last_seen, seen_at)
        seg.bbox = bbox
        return seg

    def _continuous(self, seg: Segment, box: BBox, at: float) -> bool:
        if abs(at - seg.last_seen) > self.rules.carry_s:
            return False  # a long gap: the edge may have reused the track id
        prev = seg.bbox
        size = max(prev.w, prev.h, box.w, box.h)
        jump = math.hypot(
            (box.x + box.w / 2) - (prev.x + prev.w / 2), (box.y + box.h / 2) - (prev.y + prev.h / 2)
        )
        grow = max(box.w, prev.w) / min(box.w, prev.w)
        return jump <= self.rules.jump * size and grow <= MAX_SIZE_CHANGE

    def add_encoding(
        self, seg: Segment, vec: np.ndarray, match: Match, weight: float, at: float
    ) -> Segment:
        """Fold one encoding and its gallery match into the evidence; a fresh segment
        (returned) when it disagrees with the segment so far."""
        if self._disagrees(seg, vec, match):
            key = (seg.camera_id, seg.track_id)
            gone = {seg.unknown_id} if seg.unknown_id is not None else set()
            seg = Segment(
                seg.camera_id,
                seg.track_id,
                at,
                at,
                seg.bbox,
                excluded=seg.excluded | gone,
                frame=seg.frame,
            )
            self._segs[key] = seg
        weight = max(weight, 1e-3)  # a tiny face still says whose it is, barely
        seg.pool = vec * weight if seg.pool is None else seg.pool + vec * weight
        seg.pool_weight += weight
        pid = match.person_id
        if pid is not None:
            strength = self.rules.strength(match.distance)
            seg.votes[pid] = seg.votes.get(pid, 0.0) + weight * strength
        else:
            seg.against += weight * ABSTAIN
        self._decide(seg)
        if pid is not None and pid == seg.lead():
            self.support(seg, at, match.distance)
        return seg

    def _disagrees(self, seg: Segment, vec: np.ndarray, match: Match) -> bool:
        if seg.person_id is not None and match.person_id not in (None, seg.person_id):
            return True  # clearly somebody else than the name the track earned
        pooled = seg.pooled()
        return (
            pooled is not None and float(np.linalg.norm(vec - pooled)) > self.rules.split_distance
        )

    def _decide(self, seg: Segment) -> None:
        if not seg.votes:
            seg.person_id = None
            return
        best = max(seg.votes, key=seg.votes.__getitem__)
        votes = seg.votes[best]
        contrary = sum(seg.votes.values()) - votes + seg.against
        seg.person_id = best if votes >= NAME_VOTES and votes >= DOMINANCE * contrary else None

    @staticmethod
    def support(seg: Segment, at: float, distance: float) -> None:
        """An encoding at ``distance`` supports the segment's lead identity."""
        if seg.supported_at is None or at >= seg.supported_at:  # messages may come late
            seg.supported_at, seg.support_conf = at, _closeness(distance)

    def verdict(self, seg: Segment, at: float, match: Match | None) -> Verdict:
        """Who this detection is (``match``: its own encoding's, None without one)."""
        age = None if seg.supported_at is None else max(0.0, at - seg.supported_at)
        if age is None or age > self.rules.carry_s:
            return UNIDENTIFIED  # no evidence, or too old to lend
        fresh = match is not None and age == 0.0
        if seg.person_id is not None:
            if fresh:
                return Verdict("matched", person_id=seg.person_id, confidence=seg.support_conf)
            return Verdict(
                "carried",
                person_id=seg.person_id,
                confidence=self._decayed(seg.support_conf, age),
                age_s=age,
            )
        lead = seg.lead()
        if lead is not None and not seg.wants_anonymous():
            votes = seg.votes[lead]
            return Verdict(
                "possible",
                unknown_id=seg.unknown_id,
                candidate_id=lead,
                confidence=round(min(0.5, 0.5 * votes / NAME_VOTES), 3),
                age_s=None if fresh else age,
            )
        if seg.unknown_id is None:
            return UNIDENTIFIED
        if fresh:
            return Verdict("matched", unknown_id=seg.unknown_id, confidence=seg.support_conf)
        return Verdict(
            "carried",
            unknown_id=seg.unknown_id,
            confidence=self._decayed(seg.support_conf, age),
            age_s=age,
        )

    def _decayed(self, conf: float, age: float) -> float:
        share = 1.0 - (1.0 - CARRY_FLOOR) * (age / self.rules.carry_s if self.rules.carry_s else 1)
        return conf * max(CARRY_FLOOR, share)

    # --- who else is around --------------------------------------------------------

    def co_present(self, seg: Segment) -> set[int]:
        """Anonymous identities of other tracks of the same camera that overlap this
        segment in time: two people seen at once are never one identity."""
        out = set(seg.excluded)
        for other in self._segs.values():
            if (
                other is not seg
                and other.unknown_id is not None
                and other.camera_id == seg.camera_id
                and other.last_seen >= seg.first_seen - TOGETHER_S
                and other.first_seen <= seg.last_seen + TOGETHER_S
            ):
                out.add(other.unknown_id)
        return out

    def remap_unknown(self, real: dict[int, int]) -> None:
        """Provisional (negative) anonymous ids became database ids."""
        if not real:
            return
        for seg in self._segs.values():
            if seg.unknown_id in real:
                seg.unknown_id = real[seg.unknown_id]
            if seg.excluded & real.keys():
                seg.excluded = frozenset(real.get(i, i) for i in seg.excluded)

    def regallery(self, unknowns: set[int], *, gallery_changed: bool = True) -> None:
        """The identities were reloaded. If the gallery changed (enrolled, named,
        merged, erased, "not this person"), votes counted against the old one are
        void and re-earned from the next encodings. Either way, anonymous identities
        that no longer exist are forgotten."""
        for seg in self._segs.values():
            if gallery_changed:
                seg.votes, seg.against, seg.person_id = {}, 0.0, None
            if seg.unknown_id is not None and seg.unknown_id not in unknowns:
                seg.unknown_id = None
            if seg.unknown_id is None and seg.lead() is None:
                seg.supported_at = None

    def expire(self) -> None:
        """Forget tracks their camera has not seen for a while (nothing left to carry).

        Judged on each camera's own clock (its newest detection), so a camera whose
        clock is off does not expire the others' tracks."""
        horizon = 2 * self.rules.carry_s + 1.0
        latest = self._latest
        for key in [
            k for k, s in self._segs.items() if latest.get(s.camera_id, 0.0) - s.last_seen > horizon
        ]:
            del self._segs[key]


def _closeness(distance: float) -> float:
    return float(min(1.0, max(0.0, 1.0 - distance)))
