"""One analysed frame -> one pending message: detect, track, ask for encodings.

How an encoding reaches a message: when a frontal face's track needs an encoding
(new track, its face turned frontal after a profile, or ``encode_refresh_s`` since
the last one) a crop goes to the encoder
pool and the frame's :class:`PendingBatch` waits up to ``encoding_wait_s`` for it
(later frames keep being analysed meanwhile; messages leave in frame order). An
encoding is attached to the first message, in order, that contains a frontal
detection of its track once it is available: normally the frame it was computed
from, else (timeout) the next detection of that track. Each computed encoding is
sent once; the other detections of the track carry only its ``track_id``.

Time: every timer of a track (refresh, retry) follows the frames' own timestamps
(``Frame.captured_at``: the media time of a file), never the wall clock. With
``deterministic`` (a finite source: a file, a folder) the encoder's speed does not
matter either: a request made at frame time t is settled when the first frame at
or after t + ``encoding_wait_s`` is analysed (waiting for the worker if need be),
and its message waits for it; so the same file always gives the same messages.
For a live source the message waits at most ``encoding_wait_s`` of the clock.

Tracks break where reality breaks: a scene cut or an unrelated still ends every
track (and the frame is scanned completely); the tracker refuses implausible
jumps; a refreshed encoding far from the track's previous one (another person)
splits the track, from the frame that encoding was computed on.
"""

from __future__ import annotations

import base64
import logging
import math
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from edge.config import EdgeConfig
from edge.crops import FaceCrops
from edge.detect import Box, Detector
from edge.encode import Encoder, crop_for_encoding
from edge.motion import MotionGate
from edge.quality import REASONS, QualityLimits, assess
from edge.scene import SceneCutDetector
from edge.sources import Frame
from edge.track import Track, TrackedDetection, Tracker
from srs.wire.payloads import MAX_DETECTIONS, MAX_FACES_PER_BATCH, MAX_SNAPSHOT_B64

log = logging.getLogger(__name__)

# A track first encoded from a mediocre view (quality below GOOD_QUALITY, edge/quality.py)
# is looked at again every encode_retry_s and encoded at once when the face is clearly
# better (BETTER_BY): a woman first seen turning away is named when she faces the
# camera, not only at the next timed refresh. Keys of Track.extra:
GOOD_QUALITY = 0.7
BETTER_BY = 0.2
ASKED_QUALITY = "quality_asked"  # quality of the view the last encoding was asked for
CHECKED_AT = "quality_checked_at"  # when the track's view was last judged


@dataclass
class PendingBatch:
    captured_at: float
    width: int
    height: int
    detections: list[tuple[TrackedDetection, Box]]  # with the box at source resolution
    waits_for: set[Inflight]  # encodings in flight it may carry (each has its deadline)
    snapshot: str | None = None
    clock_base: float | None = None  # the frame's (edge.sources.Frame.clock_base)


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready for the outbox: ``fields`` are a DetectionBatch's but its
    camera id and seq; ``clock_base`` is the frame's, for the outbox to re-time it by
    a clock step even one made while it waited for its encodings."""

    fields: dict[str, Any]
    clock_base: float | None = None


@dataclass(eq=False)  # compared (and hashed) by identity
class Inflight:
    """An encoding asked for and not settled yet."""

    track: Track
    future: Future[list[float] | None]
    deadline: float  # clock time until which a live message waits for it
    frame_time: float  # captured_at of the frame it was computed from
    settle_at: float = field(init=False)  # deterministic: frame time it is settled at
    settled: bool = False
    quality: float | None = None  # of the face it is computed from (edge/quality.py)


@dataclass
class AnalyserStats:
    frames_analysed: int = 0
    detections: int = 0
    encodings_requested: int = 0
    encodings_computed: int = 0
    encodings_failed: int = 0
    encodings_sent: int = 0
    encoder_busy: int = 0  # requests postponed because the pool was full
    gated: int = 0  # faces refused by the quality gate (edge/quality.py)
    gated_by: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    tracks: int = 0  # tracks started
    scene_cuts: int = 0  # frames that ended every track (stills not counted)
    track_splits: int = 0  # tracks split because a fresh encoding was another person's


class Analyser:
    def __init__(
        self,
        cfg: EdgeConfig,
        encoder: Encoder | None,
        *,
        first_track_id: int = 1,
        clock: Callable[[], float] | None = None,
        deterministic: bool = False,
    ) -> None:
        import time

        self.cfg = cfg
        self.detector = Detector(cfg)
        self.tracker = Tracker(
            iou_threshold=cfg.track_iou,
            max_missed=cfg.track_max_missed,
            max_speed=cfg.track_max_speed,
            max_scale=cfg.track_max_scale,
            first_id=first_track_id,
        )
        self.encoder = encoder if cfg.encode else None
        # The clock only bounds how long a live message waits for its encodings;
        # track timers follow the frames' timestamps.
        self.clock = clock or time.monotonic
        self.deterministic = deterministic
        self.stats = AnalyserStats()
        self.crops = FaceCrops(cfg.face_crops)  # the face an encoding carries (edge/crops.py)
        self._limits = QualityLimits(
            cfg.encode_min_px, cfg.quality_sharpness_min, cfg.quality_frontality_min
        )
        self.motion = MotionGate(cfg.motion_gating, cfg.complete_scan_every)
        self.scene = SceneCutDetector(cfg.scene_cuts, cfg.scene_cut_threshold)
        self._inflight: dict[int, Inflight] = {}  # by track id
        self._pending: deque[PendingBatch] = deque()
        self._frame_time = -math.inf  # captured_at of the last analysed frame
        self._scene_frames = 0  # analysed since the last scene cut (schedules the scans)

    # --- analysis -------------------------------------------------------------

    def analyse(self, frame: Frame) -> None:
        """Detect and track in ``frame``; queue its message if it has detections."""
        image = frame.image
        height, width = image.shape[:2]
        scale = 1.0
        small = image
        if self.cfg.analysis_width and width != self.cfg.analysis_width:
            scale = width / self.cfg.analysis_width
            small = cv2.resize(
                image,
                (self.cfg.analysis_width, max(1, round(height / scale))),
                interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR,
            )
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        bgr = small if self.cfg.detector == "hog" else None
        now = self._frame_time = frame.captured_at
        self._collect()  # before tracking: a split track continues in this frame
        if frame.still or self.scene.is_cut(gray):
            # Nothing continues into a new scene, and the scans start over as at the
            # first frame: this one is searched completely.
            self.stats.scene_cuts += not frame.still
            self.tracker.end_all()
            self.motion.reset()
            self._scene_frames = 0
        tracks = [t.box for t in self.tracker.tracks.values()]
        if self._scene_frames % self.cfg.full_detect_every:
            raw = self.detector.detect(gray, bgr, tracks)
        else:
            moved = self.motion.region(gray)
            if moved is None:  # a complete scan
                raw = self.detector.detect(gray, bgr)
            else:
                raw = self.detector.detect(gray, bgr, tracks, moved if moved[2] else None)
        tracked = self.tracker.update(raw, now)
        self.stats.frames_analysed += 1
        self._scene_frames += 1
        if not tracked:
            return
        full_gray: np.ndarray | None = None
        waits: set[Inflight] = set()
        dets: list[tuple[TrackedDetection, Box]] = []
        for td in tracked:
            box = _to_source(td.box, scale, width, height)
            dets.append((td, box))
            if td.track.hits == 1:
                self.stats.tracks += 1
            if td.kind != "face":
                continue
            if td.track.previous_kind == "profile":  # turned frontal: a new, better view
                td.track.encode_due_at = min(
                    td.track.encode_due_at, td.track.encode_asked_at + self.cfg.encode_retry_s
                )
            if td.track.track_id in self._inflight:  # asked for by an earlier frame
                waits.add(self._inflight[td.track.track_id])
                continue
            due = self._wants_encoding(td.track, now)
            if not due and not self._may_see_better(td.track, now):
                continue
            if full_gray is None:
                full_gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            quality = assess(full_gray, box, self._limits)
            if not due:  # encode ahead of the refresh only for a clearly better view
                td.track.extra[CHECKED_AT] = now
                asked = td.track.extra.get(ASKED_QUALITY)
                better = isinstance(asked, float) and quality.quality >= asked + BETTER_BY
                if quality.refused or not better:
                    continue
            elif quality.refused:
                self.stats.gated += 1
                self.stats.gated_by[quality.refused] += 1
                continue
            job = self._request(td.track, image, box, now)
            if job is not None:
                job.quality = quality.quality
                td.track.extra[ASKED_QUALITY] = quality.quality
                waits.add(job)
        self.stats.detections += len(dets)
        self._pending.append(
            PendingBatch(
                frame.captured_at,
                width,
                height,
                dets,
                waits,
                self._snapshot(image) if self.cfg.snapshots else None,
                frame.clock_base,
            )
        )

    def _may_see_better(self, track: Track, now: float) -> bool:
        """Whether to look again at a track whose last encoding came from a mediocre
        view (a turned or small face matches weakly, so core only calls it "possibly"
        somebody): at most every ``encode_retry_s``, until a good view was encoded."""
        asked = track.extra.get(ASKED_QUALITY)
        if self.encoder is None or not isinstance(asked, float) or asked >= GOOD_QUALITY:
            return False
        checked = track.extra.get(CHECKED_AT, track.encode_asked_at)
        last = checked if isinstance(checked, float) else track.encode_asked_at
        return now >= max(last, track.encode_asked_at) + self.cfg.encode_retry_s

    def _wants_encoding(self, track: Track, now: float) -> bool:
        return (
            self.encoder is not None
            and track.track_id not in self._inflight
            and now >= track.encode_due_at
        )

    def _request(self, track: Track, image: np.ndarray, box: Box, now: float) -> Inflight | None:
        assert self.encoder is not None
        if self.deterministic:  # never "busy": make room by settling the oldest request
            while len(self._inflight) >= self.cfg.encoder_queue:
                self._settle(min(self._inflight.values(), key=lambda j: j.frame_time))
        rgb, location = crop_for_encoding(image, box)
        fut = self.encoder.submit(rgb, location, wait=self.deterministic)
        if fut is None:
            self.stats.encoder_busy += 1
            return None
        self.stats.encodings_requested += 1
        first = track.extra.get(ASKED_QUALITY) is None  # no view of this track asked yet
        track.encode_asked_at = now
        track.encode_due_at = now + (
            self.cfg.encode_confirm_s if first else self.cfg.encode_refresh_s
        )
        job = Inflight(track, fut, self.clock() + self.cfg.encoding_wait_s, now)
        job.settle_at = now + self.cfg.encoding_wait_s
        self._inflight[track.track_id] = job
        self.crops.cut(track.track_id, image, box)
        return job

    def _collect(self, *, drain: bool = False) -> None:
        """Settle the encodings that are due: finished ones (live), or by frame time."""
        for job in sorted(self._inflight.values(), key=lambda j: j.frame_time):
            if drain or (
                job.settle_at <= self._frame_time if self.deterministic else job.future.done()
            ):
                self._settle(job)

    def _settle(self, job: Inflight) -> None:
        """Put a finished encoding on its track (waiting for it if need be)."""
        track, tid = job.track, job.track.track_id
        del self._inflight[tid]
        job.settled = True
        try:
            encoding = job.future.result(timeout=max(60.0, self.cfg.encoding_wait_s))
        except Exception as exc:  # noqa: BLE001 - the future carries whatever the worker raised
            encoding = None
            log.warning("encoding of track %d failed: %s", tid, exc or type(exc).__name__)
        if encoding is None:
            self.stats.encodings_failed += 1
            track.encode_due_at = job.frame_time + self.cfg.encode_retry_s
            return
        self.stats.encodings_computed += 1
        if track.encoding is not None and _distance(track.encoding, encoding) > (
            self.cfg.track_split_distance
        ):
            track = self._split(track, job.frame_time)
        track.encoding, track.encoding_unsent = encoding, True
        track.extra["quality"] = job.quality
        self.crops.keep(tid, track.track_id)

    def _split(self, track: Track, since: float) -> Track:
        """Another person under ``track`` from frame time ``since`` on: a new track."""
        new = self.tracker.split(track)
        new.encode_due_at, new.encode_asked_at = track.encode_due_at, track.encode_asked_at
        self.stats.track_splits += 1
        self.stats.tracks += 1
        log.info(
            "track %d is another person from %.3f on: now track %d",
            track.track_id,
            since,
            new.track_id,
        )
        for batch in self._pending:
            if batch.captured_at < since:
                continue
            batch.detections = [
                (TrackedDetection(new, td.kind, td.box, td.score), box)
                if td.track is track
                else (td, box)
                for td, box in batch.detections
            ]
        return new

    def _snapshot(self, image: np.ndarray) -> str | None:
        h, w = image.shape[:2]
        sw = min(self.cfg.snapshot_width, w)
        small = cv2.resize(image, (sw, max(1, round(h * sw / w))), interpolation=cv2.INTER_AREA)
        ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
        text = base64.b64encode(jpg.tobytes()).decode() if ok else ""
        return text if 0 < len(text) <= MAX_SNAPSHOT_B64 else None

    # --- assembly ---------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._pending)

    def ready(self, *, drain: bool = False) -> list[Message]:
        """Messages whose encodings arrived or timed out.

        With ``drain`` every queued message is returned, waiting for the encodings
        still in flight (used at the end of a source and on shutdown).
        """
        out: list[Message] = []
        if drain:  # every encoding in flight may still ride on a queued message
            self._collect(drain=True)
        while self._pending:
            batch = self._pending[0]
            self._collect()
            now = self.clock()
            waiting = any(
                not job.settled and (self.deterministic or now < job.deadline)
                for job in batch.waits_for
            )
            if waiting:
                break
            self._pending.popleft()
            out.append(Message(self._payload(batch), batch.clock_base))
        return out

    def _payload(self, batch: PendingBatch) -> dict[str, Any]:
        chosen = sorted(
            batch.detections,
            key=lambda d: (d[0].track.encoding_unsent is False, -d[1][2] * d[1][3]),
        )[:MAX_DETECTIONS]
        detections = []
        faces = 0
        for td, (x, y, w, h) in chosen:
            det: dict[str, Any] = {
                "kind": td.kind,
                "bbox": {"x": x, "y": y, "w": w, "h": h},
                "track_id": td.track.track_id,
                "score": round(td.score, 3),
            }
            if td.kind == "face" and td.track.encoding_unsent and td.track.encoding:
                det["encoding"] = td.track.encoding
                if isinstance(quality := td.track.extra.get("quality"), float):
                    det["quality"] = round(quality, 3)
                td.track.encoding_unsent = False
                self.stats.encodings_sent += 1
                if faces < MAX_FACES_PER_BATCH and (face := self.crops.take(td.track.track_id)):
                    det["face_jpeg_b64"] = face
                    faces += 1
            detections.append(det)
        msg: dict[str, Any] = {
            "captured_at": round(batch.captured_at, 3),
            "frame_width": batch.width,
            "frame_height": batch.height,
            "detections": detections,
        }
        if batch.snapshot:
            msg["snapshot_jpeg_b64"] = batch.snapshot
        return msg


def _distance(a: list[float], b: list[float]) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def _to_source(box: Box, scale: float, width: int, height: int) -> Box:
    """A box at analysis resolution mapped to source pixels, clipped, never empty."""
    x, y, w, h = (round(v * scale) for v in box)
    x, y = min(max(0, x), width - 1), min(max(0, y), height - 1)
    return (x, y, max(1, min(w, width - x)), max(1, min(h, height - y)))
