"""Frame sources: camera index, RTSP/HTTP URL, video file, folder of images.

A source is *finite* (file, folder: it ends) or *live* (camera, stream, or a file
replayed with ``loop``). :func:`frames` turns a source into a stream of
:class:`Frame` that never raises: a live source that fails is reopened with
exponential backoff until the stop event is set.

Time: a camera's frames are stamped with the wall clock when read. A file's frames
carry their own time instead: the file's modification time plus the frame's
position in the media (the decoder's timestamp, so a GIF's frame durations count;
else index / fps). A folder's images are one ``STILL_PERIOD_S`` apart from the
newest image's modification time. The same file therefore always gives the same
timestamps, and so the same messages. A replayed (``loop``) file starts at the
wall clock and then follows its media time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edge.clock import wall_and_base
from srs.backoff import Backoff

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
DEFAULT_FILE_FPS = 10.0
STILL_PERIOD_S = 1.0  # between two images of a folder (unrelated stills)


class SourceError(Exception):
    """A source that cannot be opened (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray = field(repr=False)  # BGR, as OpenCV delivers it
    captured_at: float  # epoch seconds
    index: int  # position in the source since it was opened
    # An unrelated image (a folder of stills): it shares nothing with the frame
    # before, so no track continues into it and it is scanned completely.
    still: bool = False
    # edge.clock's base read with ``captured_at`` (a live frame, stamped by the wall
    # clock): its message is re-timed by any clock step after this very moment.
    # None for a media or file time: the outbox takes the base when it is queued.
    clock_base: float | None = None


@dataclass
class SourceStats:
    frames_read: int = 0
    frames_dropped: int = 0  # unreadable images / failed reads
    reopens: int = 0
    ok: bool = True
    message: str = ""


class Source(Protocol):
    live: bool
    stills: bool  # each image is unrelated to the previous one (a folder)
    description: str

    def open(self) -> None: ...
    def read(self) -> np.ndarray | None: ...  # None: end (finite) or failure (live)
    def timestamp(self) -> float | None: ...  # of the frame just read; None: the wall clock
    def close(self) -> None: ...


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# How far a replayed file's frame times may fall behind the clock before they are
# moved on to now (a replay lagging on a busy machine would look like latency).
MAX_REPLAY_LAG_S = 0.2


class CaptureSource:
    """Anything cv2.VideoCapture reads: V4L2 index, URL, video file (GIF included)."""

    stills = False

    def __init__(
        self, spec: str, *, live: bool, loop: bool = False, realtime: bool = False
    ) -> None:
        self.spec = spec
        self.is_file = not live  # a file (looped or not) has its own frame times
        self.live = live or loop
        self.loop = loop
        self.realtime = realtime or loop  # replay a file at its own frame rate
        self.description = spec
        self._cap: cv2.VideoCapture | None = None
        self._period = 0.0
        self._next_at = 0.0
        self._origin: float | None = None  # epoch time of media time 0 (files)
        self._media_t = -1.0  # media time of the frame just read (s)
        self._stamp: float | None = None

    def open(self) -> None:
        target: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            raise SourceError(f"cannot open video source {self.spec!r}")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self._period = 1.0 / (fps if 0 < fps < 240 else DEFAULT_FILE_FPS)
        self._next_at = time.monotonic()
        self._cap = cap
        if self.is_file and self._origin is None:
            self._origin = time.time() if self.loop else _mtime(Path(self.spec))
        self._media_t = -1.0

    def _advance_media_time(self) -> None:
        """The just-read frame's time: the decoder's, else one frame period on."""
        assert self._cap is not None and self._origin is not None
        pos_s = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if not (self._media_t < pos_s < self._media_t + 3600.0):  # absent or not increasing
            pos_s = self._media_t + self._period if self._media_t >= 0 else 0.0
        self._media_t = pos_s
        self._stamp = self._origin + pos_s

    def timestamp(self) -> float | None:
        return self._stamp

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        if self.realtime and not self.is_file:
            delay = self._next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_at = max(self._next_at + self._period, time.monotonic() - 1.0)
        ok, image = self._cap.read()
        if not ok and self.loop:
            # The replay goes on in time: the next round starts one period after the last frame.
            assert self._origin is not None
            self._origin += max(0.0, self._media_t) + self._period
            self._media_t = -1.0
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
            if not ok:  # some backends cannot seek: reopen instead
                self.close()
                self.open()
                ok, image = self._cap.read() if self._cap is not None else (False, None)
        if ok and self.is_file and self._cap is not None:
            self._advance_media_time()
            if self.realtime:
                self._keep_pace()
        return image if ok else None

    def _keep_pace(self) -> None:
        """A replayed frame is captured when its media time comes, never before.

        Paced by the frames' own times, not by CAP_PROP_FPS: a GIF's frame delays vary
        (70, 60, 70 ms...) and pacing by the nominal rate ran the stamps up to 6 s a
        minute ahead of the clock, so latency from capture read negative. A reader
        that falls behind (a busy machine) moves the origin on: stamps stay "now".
        """
        assert self._stamp is not None and self._origin is not None
        delay = self._stamp - time.time()
        if delay > 0:
            time.sleep(min(delay, 1.0))
        elif delay < -MAX_REPLAY_LAG_S:
            self._origin -= delay
            self._stamp -= delay

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FolderSource:
    """The images of a folder in name order (finite; ``loop`` replays it)."""

    stills = True

    def __init__(self, folder: Path, *, loop: bool = False) -> None:
        self.folder = folder
        self.loop = loop
        self.live = loop
        self.description = str(folder)
        self._files: list[Path] = []
        self._pos = 0
        self._origin = 0.0
        self._served = 0  # images returned since open (a replay goes on in time)
        self.unreadable = 0

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"image folder {self.folder} does not exist")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        self._pos = 0
        self._served = 0
        self._origin = max((_mtime(p) for p in self._files), default=0.0)

    def timestamp(self) -> float | None:
        return self._origin + (self._served - 1) * STILL_PERIOD_S

    def read(self) -> np.ndarray | None:
        while True:
            if self._pos >= len(self._files):
                if not self.loop or not self._files:
                    return None
                self._pos = 0
            path = self._files[self._pos]
            self._pos += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                self._served += 1
                return image
            self.unreadable += 1
            log.warning("skipping %s: not a readable image", path)

    def close(self) -> None:
        self._files = []


def open_source(spec: str, *, loop: bool = False) -> Source:
    """Build the source described by ``spec`` (not opened yet)."""
    if not spec.strip():
        raise SourceError("the source is empty: give a camera index, URL, file or folder")
    if spec.isdigit():
        return CaptureSource(spec, live=True)
    if "://" in spec:
        return CaptureSource(spec, live=True)
    path = Path(spec).expanduser()
    if path.is_dir():
        return FolderSource(path, loop=loop)
    if path.is_file():
        return CaptureSource(str(path), live=False, loop=loop)
    raise SourceError(f"source {spec!r} is neither a camera index, a URL, a file nor a folder")


def frames(
    source: Source,
    stop: threading.Event,
    stats: SourceStats,
    max_backoff_s: float = 30.0,
    jitter: float = 0.2,
) -> Iterator[Frame]:
    """Yield frames until a finite source ends or ``stop`` is set; never raises."""
    backoff = Backoff(first_s=1.0, max_s=max_backoff_s, jitter=jitter)
    index = 0
    opened = False
    while not stop.is_set():
        if not opened:
            try:
                source.open()
                opened = True
                stats.ok, stats.message = True, ""
            except SourceError as exc:
                if not source.live:
                    stats.ok, stats.message = False, str(exc)
                    log.error("%s", exc)
                    return
                delay = backoff.next_delay()
                stats.ok, stats.message = False, f"{exc}; retrying in {delay:.0f} s"
                log.warning("%s", stats.message)
                stop.wait(delay)
                stats.reopens += 1
                continue
        image = source.read()
        if image is None:
            if not source.live:
                break
            stats.frames_dropped += 1
            stats.ok, stats.message = False, f"{source.description} stopped delivering frames"
            delay = backoff.next_delay()
            log.warning("%s; reopening in %.0f s", stats.message, delay)
            source.close()
            opened = False
            stop.wait(delay)
            stats.reopens += 1
            continue
        backoff.reset()
        stats.frames_read += 1
        stamp = source.timestamp()
        if stamp is None:
            now, base = wall_and_base()
            yield Frame(image, now, index, source.stills, clock_base=base)
        else:
            yield Frame(image, stamp, index, source.stills)
        index += 1
    source.close()
    stats.frames_dropped += getattr(source, "unreadable", 0)
