"""IoU / centroid tracker: a stable track id for each head across frames.

Matching ignores the kind, so a head turning from frontal to profile (and back)
keeps its track. Pairs are matched greedily by IoU, then leftovers by centroid
distance relative to the box size (fast walkers at low frame rates overlap little).

A pair is refused, whatever its overlap, when the box jumped further than a head
can move in the time between the two frames, or changed size too much at once
(:func:`plausible_move`): a different person's face that happens to appear near
a track (after a cut, in a crowd) starts a new track instead of inheriting one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from edge.detect import Box, Kind, RawDetection, iou

MAX_TRACK_ID = 2**31
# Haar boxes of one still head wander by up to ~0.3 of their size between frames
# (measured on the bundled clips: 0.34 when a head turns from profile to frontal).
JITTER = 0.3
NOMINAL_FRAME_S = 0.08  # assumed between frames when the caller gives no time (12.5 fps)


@dataclass
class Track:
    track_id: int
    box: Box
    kind: Kind
    hits: int = 1
    missed: int = 0
    seen_at: float = 0.0  # time of the frame that last matched the track
    previous_kind: Kind | None = None  # the kind before the last match
    # encoding bookkeeping (owned by the analyser)
    encode_due_at: float = 0.0
    encode_asked_at: float = -math.inf  # frame time of the last encoding request
    encoding: list[float] | None = None
    encoding_unsent: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrackedDetection:
    track: Track
    kind: Kind
    box: Box
    score: float


def _centre_distance(a: Box, b: Box) -> float:
    ax, ay = a[0] + a[2] / 2, a[1] + a[3] / 2
    bx, by = b[0] + b[2] / 2, b[1] + b[3] / 2
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)


def _size(box: Box) -> float:
    return float(max(1, box[2] * box[3]) ** 0.5)


def plausible_move(
    before: Box, after: Box, elapsed_s: float, max_speed: float, max_scale: float
) -> bool:
    """Could one head have moved from ``before`` to ``after`` in ``elapsed_s``?

    Distances are in head sizes (the smaller box's, so a big close-up cannot reach
    a small face across the frame): the centre may move ``JITTER`` plus
    ``max_speed`` sizes per second; the size may change by ``max_scale`` at most.
    """
    small, large = sorted((_size(before), _size(after)))
    if large > max_scale * small:
        return False
    reach = small * (JITTER + max_speed * max(0.0, elapsed_s))
    return _centre_distance(before, after) <= reach


class Tracker:
    def __init__(
        self,
        *,
        iou_threshold: float = 0.2,
        max_missed: int = 5,
        centroid_factor: float = 0.75,
        max_speed: float = 10.0,
        max_scale: float = 2.5,
        first_id: int = 1,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.centroid_factor = centroid_factor
        self.max_speed = max_speed
        self.max_scale = max_scale
        self.next_id = first_id % MAX_TRACK_ID
        self.now = 0.0  # time of the last update
        self.tracks: dict[int, Track] = {}
        self.ended: list[Track] = []  # tracks removed by the last update

    def update(
        self, dets: Sequence[RawDetection], now: float | None = None
    ) -> list[TrackedDetection]:
        """Assign every detection to a track (new or continued); age the rest.

        ``now`` is the frame's time (seconds): how far a head may have moved depends
        on the time since its track was last seen. Without it frames are taken to be
        ``NOMINAL_FRAME_S`` apart.
        """
        now = self.now = self.now + NOMINAL_FRAME_S if now is None else now
        live = list(self.tracks.values())

        def possible(t: Track, d: RawDetection) -> bool:
            return plausible_move(t.box, d.box, now - t.seen_at, self.max_speed, self.max_scale)

        pairs = [
            (iou(t.box, d.box), ti, di)
            for ti, t in enumerate(live)
            for di, d in enumerate(dets)
            if possible(t, d)
        ]
        used_t: set[int] = set()
        used_d: set[int] = set()
        assigned: dict[int, Track] = {}
        for score, ti, di in sorted(pairs, reverse=True):
            if score < self.iou_threshold:
                break
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            assigned[di] = live[ti]
        near = []
        for ti, t in enumerate(live):
            if ti in used_t:
                continue
            for di, d in enumerate(dets):
                if di in used_d:
                    continue
                dist = _centre_distance(t.box, d.box)
                limit = self.centroid_factor * max(t.box[2], t.box[3], d.box[2], d.box[3])
                if dist <= limit and possible(t, d):
                    near.append((dist, ti, di))
        for _, ti, di in sorted(near):
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            assigned[di] = live[ti]
        out: list[TrackedDetection] = []
        for di, d in enumerate(dets):
            track = assigned.get(di)
            if track is None:
                track = Track(self._new_id(), d.box, d.kind, seen_at=now)
                self.tracks[track.track_id] = track
            else:
                track.previous_kind = track.kind
                track.box, track.kind, track.seen_at = d.box, d.kind, now
                track.hits += 1
                track.missed = 0
            out.append(TrackedDetection(track, d.kind, d.box, d.score))
        self.ended = []
        for ti, t in enumerate(live):
            if ti not in used_t:
                t.missed += 1
                if t.missed > self.max_missed:
                    self.ended.append(self.tracks.pop(t.track_id))
        return out

    def end_all(self) -> None:
        """End every track (a scene cut, an unrelated image): nothing continues."""
        self.ended = list(self.tracks.values())
        self.tracks = {}

    def split(self, track: Track) -> Track:
        """End ``track`` and continue its head under a new id (another person's face).

        The new track takes over the position; detections already assigned to the
        old track keep its id, so the past is not renamed.
        """
        new = Track(
            self._new_id(),
            track.box,
            track.kind,
            hits=1,
            missed=track.missed,
            seen_at=track.seen_at,
            previous_kind=track.previous_kind,
        )
        if self.tracks.pop(track.track_id, None) is not None:
            self.tracks[new.track_id] = new
        self.ended.append(track)
        return new

    def _new_id(self) -> int:
        tid = self.next_id
        self.next_id = (self.next_id + 1) % MAX_TRACK_ID
        return tid
