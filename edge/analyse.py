"""One analysed frame -> one pending message: detect, track, ask for encodings.

How an encoding reaches a message: when a frontal face's track needs an encoding
(new track, or ``encode_refresh_s`` since the last one) a crop goes to the encoder
pool and the frame's :class:`PendingBatch` waits up to ``encoding_wait_s`` for it
(later frames keep being analysed meanwhile; messages leave in frame order). An
encoding is attached to the first message, in order, that contains a frontal
detection of its track once it is available: normally the frame it was computed
from, else (timeout) the next detection of that track. Each computed encoding is
sent once; the other detections of the track carry only its ``track_id``.
"""

from __future__ import annotations

import base64
import logging
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from edge.config import EdgeConfig
from edge.detect import Box, Detector
from edge.encode import Encoder, crop_for_encoding
from edge.motion import MotionGate
from edge.quality import REASONS, QualityLimits, assess
from edge.sources import Frame
from edge.track import Track, TrackedDetection, Tracker
from srs.wire.payloads import MAX_DETECTIONS, MAX_SNAPSHOT_B64

log = logging.getLogger(__name__)


@dataclass
class PendingBatch:
    captured_at: float
    width: int
    height: int
    detections: list[tuple[TrackedDetection, Box]]  # with the box at source resolution
    waits_for: set[int]  # track ids with an encoding in flight (each has its deadline)
    snapshot: str | None = None


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


class Analyser:
    def __init__(
        self,
        cfg: EdgeConfig,
        encoder: Encoder | None,
        *,
        first_track_id: int = 1,
        clock: Any = None,
    ) -> None:
        import time

        self.cfg = cfg
        self.detector = Detector(cfg)
        self.tracker = Tracker(
            iou_threshold=cfg.track_iou, max_missed=cfg.track_max_missed, first_id=first_track_id
        )
        self.encoder = encoder if cfg.encode else None
        self.clock = clock or time.monotonic
        self.stats = AnalyserStats()
        self._limits = QualityLimits(
            cfg.encode_min_px, cfg.quality_sharpness_min, cfg.quality_frontality_min
        )
        self.motion = MotionGate(cfg.motion_gating, cfg.complete_scan_every)
        # track id -> (track, future, deadline of the message that asked for it)
        self._inflight: dict[int, tuple[Track, Future[list[float] | None], float]] = {}
        self._pending: deque[PendingBatch] = deque()

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
        tracks = [t.box for t in self.tracker.tracks.values()]
        if self.stats.frames_analysed % self.cfg.full_detect_every:
            raw = self.detector.detect(gray, bgr, tracks)
        else:
            moved = self.motion.region(gray)
            if moved is None:  # a complete scan
                raw = self.detector.detect(gray, bgr)
            else:
                raw = self.detector.detect(gray, bgr, tracks, moved if moved[2] else None)
        tracked = self.tracker.update(raw)
        self.stats.frames_analysed += 1
        self._collect()
        if not tracked:
            return
        now = self.clock()
        full_gray: np.ndarray | None = None
        waits: set[int] = set()
        dets: list[tuple[TrackedDetection, Box]] = []
        for td in tracked:
            box = _to_source(td.box, scale, width, height)
            dets.append((td, box))
            if td.track.hits == 1:
                self.stats.tracks += 1
            if td.kind != "face":
                continue
            if td.track.track_id in self._inflight:  # asked for by an earlier frame
                waits.add(td.track.track_id)
                continue
            if not self._wants_encoding(td.track, now):
                continue
            if full_gray is None:
                full_gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            quality = assess(full_gray, box, self._limits)
            if quality.refused:
                self.stats.gated += 1
                self.stats.gated_by[quality.refused] += 1
                continue
            td.track.extra["quality_asked"] = quality.quality
            if self._request(td.track, image, box, now + self.cfg.encoding_wait_s):
                waits.add(td.track.track_id)
        self.stats.detections += len(dets)
        self._pending.append(
            PendingBatch(
                frame.captured_at,
                width,
                height,
                dets,
                waits,
                self._snapshot(image) if self.cfg.snapshots else None,
            )
        )

    def _wants_encoding(self, track: Track, now: float) -> bool:
        return (
            self.encoder is not None
            and track.track_id not in self._inflight
            and now >= track.encode_due_at
        )

    def _request(self, track: Track, image: np.ndarray, box: Box, deadline: float) -> bool:
        assert self.encoder is not None
        rgb, location = crop_for_encoding(image, box)
        fut = self.encoder.submit(rgb, location)
        if fut is None:
            self.stats.encoder_busy += 1
            return False
        self.stats.encodings_requested += 1
        track.encode_due_at = deadline - self.cfg.encoding_wait_s + self.cfg.encode_refresh_s
        self._inflight[track.track_id] = (track, fut, deadline)
        return True

    def _collect(self) -> None:
        """Move finished encodings onto their tracks."""
        for tid, (track, fut, _) in list(self._inflight.items()):
            if not fut.done():
                continue
            del self._inflight[tid]
            try:
                encoding = fut.result()
            except Exception as exc:
                encoding = None
                log.warning("encoding of track %d failed: %s", tid, exc)
            if encoding is None:
                self.stats.encodings_failed += 1
                track.encode_due_at = self.clock() + self.cfg.encode_retry_s
            else:
                self.stats.encodings_computed += 1
                track.encoding, track.encoding_unsent = encoding, True
                track.extra["quality"] = track.extra.get("quality_asked")

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

    def ready(self, *, drain: bool = False) -> list[dict[str, Any]]:
        """Messages (without camera id and seq) whose encodings arrived or timed out.

        With ``drain`` every queued message is returned, waiting for the encodings
        still in flight (used at the end of a source and on shutdown).
        """
        out: list[dict[str, Any]] = []
        if drain:  # every encoding in flight may still ride on a queued message
            for tid, (_, fut, _) in list(self._inflight.items()):
                try:
                    fut.exception(timeout=max(30.0, self.cfg.encoding_wait_s))
                except Exception:
                    log.warning("the encoder did not answer for track %d", tid)
        while self._pending:
            batch = self._pending[0]
            self._collect()
            now = self.clock()
            waiting = any(
                tid in self._inflight and now < self._inflight[tid][2] for tid in batch.waits_for
            )
            if waiting and not drain:
                break
            self._pending.popleft()
            out.append(self._payload(batch))
        return out

    def _payload(self, batch: PendingBatch) -> dict[str, Any]:
        chosen = sorted(
            batch.detections,
            key=lambda d: (d[0].track.encoding_unsent is False, -d[1][2] * d[1][3]),
        )[:MAX_DETECTIONS]
        detections = []
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
                    det["quality"] = quality
                td.track.encoding_unsent = False
                self.stats.encodings_sent += 1
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


def _to_source(box: Box, scale: float, width: int, height: int) -> Box:
    """A box at analysis resolution mapped to source pixels, clipped, never empty."""
    x, y, w, h = (round(v * scale) for v in box)
    x, y = min(max(0, x), width - 1), min(max(0, y), height - 1)
    return (x, y, max(1, min(w, width - x)), max(1, min(h, height - y)))
