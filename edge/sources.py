"""Frame sources: camera index, RTSP/HTTP URL, video file, folder of images.

A source is *finite* (file, folder: it ends) or *live* (camera, stream, or a file
replayed with ``loop``). :func:`frames` turns a source into a stream of
:class:`Frame` that never raises: a live source that fails is reopened with
exponential backoff until the stop event is set.
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

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
DEFAULT_FILE_FPS = 10.0


class SourceError(Exception):
    """A source that cannot be opened (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray = field(repr=False)  # BGR, as OpenCV delivers it
    captured_at: float  # epoch seconds
    index: int  # position in the source since it was opened


@dataclass
class SourceStats:
    frames_read: int = 0
    frames_dropped: int = 0  # unreadable images / failed reads
    reopens: int = 0
    ok: bool = True
    message: str = ""


class Source(Protocol):
    live: bool
    description: str

    def open(self) -> None: ...
    def read(self) -> np.ndarray | None: ...  # None: end (finite) or failure (live)
    def close(self) -> None: ...


class CaptureSource:
    """Anything cv2.VideoCapture reads: V4L2 index, URL, video file (GIF included)."""

    def __init__(
        self, spec: str, *, live: bool, loop: bool = False, realtime: bool = False
    ) -> None:
        self.spec = spec
        self.live = live or loop
        self.loop = loop
        self.realtime = realtime or loop  # replay a file at its own frame rate
        self.description = spec
        self._cap: cv2.VideoCapture | None = None
        self._period = 0.0
        self._next_at = 0.0

    def open(self) -> None:
        target: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            raise SourceError(f"cannot open video source {self.spec!r}")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self._period = 1.0 / (fps if 0 < fps < 240 else DEFAULT_FILE_FPS)
        self._next_at = time.monotonic()
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        if self.realtime:
            delay = self._next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_at = max(self._next_at + self._period, time.monotonic() - 1.0)
        ok, image = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
            if not ok:  # some backends cannot seek: reopen instead
                self.close()
                self.open()
                ok, image = self._cap.read() if self._cap is not None else (False, None)
        return image if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FolderSource:
    """The images of a folder in name order (finite; ``loop`` replays it)."""

    def __init__(self, folder: Path, *, loop: bool = False) -> None:
        self.folder = folder
        self.loop = loop
        self.live = loop
        self.description = str(folder)
        self._files: list[Path] = []
        self._pos = 0
        self.unreadable = 0

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"image folder {self.folder} does not exist")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        self._pos = 0

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
    source: Source, stop: threading.Event, stats: SourceStats, max_backoff_s: float = 30.0
) -> Iterator[Frame]:
    """Yield frames until a finite source ends or ``stop`` is set; never raises."""
    backoff = 1.0
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
                stats.ok, stats.message = False, f"{exc}; retrying in {backoff:.0f} s"
                log.warning("%s", stats.message)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff_s)
                stats.reopens += 1
                continue
        image = source.read()
        if image is None:
            if not source.live:
                break
            stats.frames_dropped += 1
            stats.ok, stats.message = False, f"{source.description} stopped delivering frames"
            log.warning("%s; reopening in %.0f s", stats.message, backoff)
            source.close()
            opened = False
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff_s)
            stats.reopens += 1
            continue
        backoff = 1.0
        stats.frames_read += 1
        yield Frame(image, time.time(), index)
        index += 1
    source.close()
    stats.frames_dropped += getattr(source, "unreadable", 0)
