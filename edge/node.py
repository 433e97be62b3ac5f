"""`EdgeNode`: capture -> analyse -> outbox -> MQTT for one camera.

Threads: capture (reads the source into a one-frame slot), the caller's thread
(analysis and message assembly), the sender (edge.link) and paho's network thread;
encodings run in worker processes. Back-pressure: a live source overwrites the slot
when analysis is busy (the overwritten frame counts as skipped), a finite source
waits for analysis instead, so a file is analysed completely. Nothing grows
without bound. ``stop()`` (SIGTERM) ends capture, drains the encoders into the
outbox, and returns from ``run`` with 0.

A finite source is analysed deterministically (see edge.analyse): the same file
gives the same messages, however fast the machine or the encoder is. A dead
encoder worker is replaced (edge.encode) and counted as ``encoder_restarts``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

from edge.analyse import Analyser, Message
from edge.config import EdgeConfig
from edge.encode import EncoderPool
from edge.link import Link
from edge.outbox import Outbox
from edge.sources import Frame, Source, SourceError, SourceStats, frames, open_source
from edge.srs_config import SrsConfig
from srs.sdnotify import Notifier
from srs.wire import topics
from srs.wire.payloads import DetectionBatch
from srs.wire.signing import SigningKey

log = logging.getLogger(__name__)


def key_path(cfg: SrsConfig, camera_id: str) -> Path:
    return cfg.keys_dir / f"camera-{camera_id}.key"


def other_cameras(cfg: SrsConfig, camera_id: str) -> list[str]:
    """The cameras other than ``camera_id`` that have a key in this data dir."""
    keys = sorted(cfg.keys_dir.glob("camera-*.key")) if cfg.keys_dir.is_dir() else []
    return [k.stem.removeprefix("camera-") for k in keys if k != key_path(cfg, camera_id)]


def checked_key_path(cfg: SrsConfig, camera_id: str) -> Path:
    """The key path of ``camera_id``, refusing to make a key for a mistyped id.

    A node makes its key on first start; but a data dir that already holds another
    camera's key and none for this id most likely got a typo, and a fresh key would
    only be rejected by core as an unknown camera.
    """
    path = key_path(cfg, camera_id)
    others = [] if path.exists() else other_cameras(cfg, camera_id)
    if others:
        raise ValueError(
            f"no key for camera {camera_id!r} in {cfg.keys_dir}, which holds keys for "
            f"{', '.join(others)}: check the camera id, or create its key with "
            f"`srs edge init --camera-id {camera_id}` and register it on the core host"
        )
    return path


def outbox_path(cfg: SrsConfig, camera_id: str) -> Path:
    return cfg.data_dir / "edge" / f"outbox-{camera_id}.db"


class FrameSlot:
    """Hands frames from capture to analysis without ever holding more than one."""

    def __init__(self, live: bool, max_fps: float = 0.0) -> None:
        self.live = live
        self.min_period = 1.0 / max_fps if max_fps > 0 else 0.0
        self.skipped = 0
        self._frame: Frame | None = None
        self._ended = False
        # Not 0.0: the monotonic clock starts near zero at boot, and a node started
        # within 1/max_fps s of it would skip its first frame.
        self._last_accept = -math.inf
        self._cond = threading.Condition()

    def put(self, frame: Frame, stop: threading.Event) -> None:
        with self._cond:
            if self.live:
                now = time.monotonic()
                if self.min_period and now - self._last_accept < self.min_period:
                    self.skipped += 1
                    return
                if self._frame is not None:
                    self.skipped += 1  # analysis is behind: newest frame wins
                self._last_accept = now
            else:
                while self._frame is not None and not stop.is_set():
                    self._cond.wait(0.1)
            self._frame = frame
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def get(self, timeout: float) -> tuple[Frame | None, bool]:
        """(frame or None, ended) — ended only once the last frame was taken."""
        with self._cond:
            if self._frame is None and not self._ended:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame, self._ended and frame is None


class EdgeNode:
    def __init__(
        self, cfg: SrsConfig, *, camera_id: str | None = None, source: str | None = None
    ) -> None:
        ecfg = cfg.edge.for_camera(camera_id)
        if source is not None:
            ecfg = ecfg.model_copy(update={"source": source})
        self.cfg = cfg
        self.ecfg: EdgeConfig = ecfg
        self.camera_id = topics.check_id(ecfg.camera_id, "camera id")
        self._stop = threading.Event()
        self._capture_stop = threading.Event()
        self.source_stats = SourceStats()
        self.slot: FrameSlot | None = None
        self.invalid_messages = 0
        # systemd's notify socket, when run by srs-edge@.service (else it does nothing).
        self.notifier = Notifier()
        self._fps = 0.0
        self._fps_mark = (time.monotonic(), 0)

    # --- lifecycle ------------------------------------------------------------

    def __enter__(self) -> EdgeNode:
        self.encoder: EncoderPool | None = None
        try:
            self.key = SigningKey.load_or_create(
                topics.camera_issuer(self.camera_id), checked_key_path(self.cfg, self.camera_id)
            )
            self.outbox = Outbox(
                outbox_path(self.cfg, self.camera_id),
                max_messages=self.ecfg.outbox_max_messages,
                max_age_s=self.ecfg.outbox_max_age_s,
            )
            if self.ecfg.encode:
                self.encoder = EncoderPool(
                    self.ecfg.encoder_workers,
                    self.ecfg.encoder_queue,
                    verify=self.ecfg.verify_faces,
                )
            self.analyser = Analyser(
                self.ecfg, self.encoder, first_track_id=self.outbox.get_meta("next_track_id", 1)
            )
            self.link = Link(self.cfg, self.ecfg, self.outbox, self.key, self.status)
            self.link.start()
            if self.encoder is not None:
                self.encoder.wait_ready()  # once, at start: the first faces get encodings
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """The one stop path: workers drained, sender joined, outbox closed."""
        self.stop()
        if self.encoder is not None:
            self.encoder.close()
        if hasattr(self, "link"):  # absent when __enter__ failed early
            self.link.stop()
        if hasattr(self, "outbox"):
            self.outbox.close()

    def stop(self) -> None:
        """Ask ``run`` to finish (safe from a signal handler or another thread)."""
        if not self._stop.is_set():
            self.notifier.stopping("draining the encoders into the outbox")
        self._stop.set()
        self._capture_stop.set()

    # --- running --------------------------------------------------------------------

    def run(self, once: bool = False, *, loop: bool = False) -> int:
        try:
            source = open_source(self.ecfg.source, loop=loop and not once)
        except SourceError as exc:
            log.error("camera %s: %s", self.camera_id, exc)
            return 2
        if once and source.live:
            log.error(
                "camera %s: --once needs a finite source (a file or a folder), not %r",
                self.camera_id,
                self.ecfg.source,
            )
            return 2
        slot = self.slot = FrameSlot(source.live, self.ecfg.max_fps if source.live else 0.0)
        self.analyser.deterministic = not source.live
        capture = threading.Thread(
            target=self._capture,
            args=(source, slot),
            name=f"edge-capture-{self.camera_id}",
            daemon=True,
        )
        capture.start()
        self.notifier.ready(f"camera {self.camera_id} analysing {self.ecfg.source}")
        try:
            while not self._stop.is_set() and self.link.failure is None:
                # Fed from the analysis loop: an analysis or an outbox write that hangs
                # stops the keep-alives, and systemd restarts the node.
                self.notifier.alive()
                frame, ended = slot.get(0.05)
                if frame is not None:
                    self.analyser.analyse(frame)
                self._emit(self.analyser.ready())
                if ended:
                    break
        finally:
            self._stop_capture(capture)
            self._emit(self.analyser.ready(drain=True))
            self.link.wake.set()
        if self.link.failure is not None:  # a broker that refuses the acks: no point going on
            log.error("%s", self.link.failure)
            return 1
        if (
            not self.source_stats.ok
            and self.source_stats.frames_read == 0
            and not self._stop.is_set()
        ):
            log.error("camera %s: %s", self.camera_id, self.source_stats.message)
            return 2
        if once and not self._stop.is_set():
            return self._wait_acked()
        return 0

    def _capture(self, source: Source, slot: FrameSlot) -> None:
        try:
            for frame in frames(
                source, self._capture_stop, self.source_stats, self.ecfg.reopen_max_backoff_s
            ):
                slot.put(frame, self._capture_stop)
        except Exception:  # never let a decoder bug kill the node silently
            log.exception("camera %s: capture failed", self.camera_id)
        finally:
            slot.end()

    def _stop_capture(self, capture: threading.Thread) -> None:
        self._capture_stop.set()
        capture.join(10)

    def _emit(self, messages: list[Message]) -> None:
        for msg in messages:

            def build(seq: int, fields: dict[str, Any] = msg.fields) -> str:
                batch = DetectionBatch(camera_id=self.camera_id, seq=seq, **fields)
                return batch.model_dump_json(exclude_none=True)

            try:
                self.outbox.add(
                    build,
                    meta={"next_track_id": self.analyser.tracker.next_id},
                    clock_base=msg.clock_base,
                )
            except ValueError as exc:  # pydantic: a value the contract refuses
                self.invalid_messages += 1
                log.error("camera %s: message not stored: %s", self.camera_id, exc)
        if messages:
            self.link.wake.set()

    def _wait_acked(self) -> int:
        deadline = time.monotonic() + self.ecfg.once_timeout_s
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.link.failure is not None:
                log.error("%s", self.link.failure)
                return 1
            if self.outbox.depth == 0:
                log.info("camera %s: every message was acknowledged", self.camera_id)
                return 0
            if self.link.refused:
                log.error(
                    "camera %s: %s, so nothing can be sent; %d message(s) stay in %s for "
                    "the next run (check [mqtt] username and SRS_MQTT__PASSWORD)",
                    self.camera_id,
                    self.link.watcher.last_error,
                    self.outbox.depth,
                    self.outbox.path,
                )
                return 1
            self.link.wake.set()
            time.sleep(0.1)
        depth = self.outbox.depth
        if depth == 0 or self._stop.is_set():
            return 0  # stopped by SIGTERM: the outbox keeps the rest for the next run
        reach = (
            "connected"
            if self.link.watcher.connected.is_set()
            else f"NOT connected to {self.cfg.mqtt.host}:{self.cfg.mqtt.port}"
        )
        log.error(
            "camera %s: %d message(s) still unacknowledged after %.0f s (broker %s; "
            "is core running?). They stay in %s and are sent on the next run.",
            self.camera_id,
            depth,
            self.ecfg.once_timeout_s,
            reach,
            self.outbox.path,
        )
        return 1

    # --- status ---------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        analysed = self.analyser.stats.frames_analysed
        now = time.monotonic()
        mark_t, mark_n = self._fps_mark
        if now - mark_t >= 1.0:
            self._fps = min(1000.0, (analysed - mark_n) / (now - mark_t))
            self._fps_mark = (now, analysed)
        return {
            "fps": round(self._fps, 2),
            "frames_analysed": analysed,
            "frames_skipped": self.slot.skipped if self.slot else 0,
            "frames_dropped": self.source_stats.frames_dropped,
            "encoder_backlog": self.encoder.backlog if self.encoder else 0,
            "encoder_restarts": self.encoder.restarts if self.encoder else 0,
            "source_ok": self.source_stats.ok,
            "message": self.source_stats.message,
            "gated": dict(self.analyser.stats.gated_by),
        }
