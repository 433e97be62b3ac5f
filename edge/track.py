"""IoU / centroid tracker: a stable track id for each head across frames.

Matching ignores the kind, so a head turning from frontal to profile (and back)
keeps its track. Pairs are matched greedily by IoU, then leftovers by centroid
distance relative to the box size (fast walkers at low frame rates overlap little).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edge.detect import Box, Kind, RawDetection, iou

MAX_TRACK_ID = 2**31


@dataclass
class Track:
    track_id: int
    box: Box
    kind: Kind
    hits: int = 1
    missed: int = 0
    # encoding bookkeeping (owned by the analyser)
    encode_due_at: float = 0.0
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


class Tracker:
    def __init__(
        self,
        *,
        iou_threshold: float = 0.2,
        max_missed: int = 5,
        centroid_factor: float = 0.75,
        first_id: int = 1,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.centroid_factor = centroid_factor
        self.next_id = first_id % MAX_TRACK_ID
        self.tracks: dict[int, Track] = {}
        self.ended: list[Track] = []  # tracks removed by the last update

    def update(self, dets: Sequence[RawDetection]) -> list[TrackedDetection]:
        """Assign every detection to a track (new or continued); age the rest."""
        live = list(self.tracks.values())
        pairs = [
            (iou(t.box, d.box), ti, di) for ti, t in enumerate(live) for di, d in enumerate(dets)
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
                if dist <= limit:
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
                track = Track(self._new_id(), d.box, d.kind)
                self.tracks[track.track_id] = track
            else:
                track.box, track.kind = d.box, d.kind
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

    def _new_id(self) -> int:
        tid = self.next_id
        self.next_id = (self.next_id + 1) % MAX_TRACK_ID
        return tid
