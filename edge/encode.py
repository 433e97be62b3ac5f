"""128-d face encodings off the capture path, in a bounded pool of worker processes.

Only a crop around the face crosses the process boundary (not the frame). The
pool never holds more than ``encoder_queue`` jobs: :meth:`EncoderPool.submit`
returns None when it is full and the caller simply asks again on a later frame.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol

import cv2
import numpy as np

from edge.detect import Box, expand, iou

log = logging.getLogger(__name__)

DECIMALS = 5
CROP_MARGIN = 0.5  # of the face size on each side: landmarks need some context
VERIFY_FACE_PX = 130  # HOG (no upsampling) reliably sees faces from ~80 px


def crop_for_encoding(bgr: np.ndarray, box: Box) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """RGB crop around ``box`` and the face location in it as (top, right, bottom, left)."""
    height, width = bgr.shape[:2]
    cx, cy, cw, ch = expand(box, CROP_MARGIN, width, height)
    crop = np.ascontiguousarray(bgr[cy : cy + ch, cx : cx + cw, ::-1])
    x, y, w, h = box
    top, left = y - cy, x - cx
    return crop, (top, left + w, top + h, left)


def compute_encoding(
    rgb: np.ndarray, location: tuple[int, int, int, int], verify: bool = False
) -> list[float] | None:
    """The rounded encoding of the face at ``location``, or None if there is none.

    With ``verify`` dlib's HOG detector must confirm the face first (a few ms on
    the crop, enlarged so the face is ~100 px): Haar false positives (a patterned
    shirt...) then never get an identity, and the encoding uses HOG's box, the
    kind of box dlib's landmark model was trained on.
    """
    import face_recognition

    if verify:
        top, right, bottom, left = location
        factor = max(1.0, VERIFY_FACE_PX / max(1, bottom - top))
        if factor > 1.0:
            rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        wanted = _box_of(
            (
                round(top * factor),
                round(right * factor),
                round(bottom * factor),
                round(left * factor),
            )
        )
        found = [
            loc
            for loc in face_recognition.face_locations(rgb, 0, "hog")
            if iou(_box_of(loc), wanted) >= 0.3
        ]
        if not found:
            return None
        location = max(found, key=lambda loc: iou(_box_of(loc), wanted))
    encodings = face_recognition.face_encodings(rgb, known_face_locations=[location])
    if not encodings:
        return None
    values = np.round(np.asarray(encodings[0], dtype=np.float64), DECIMALS)
    if not np.all(np.isfinite(values)):
        return None
    return [float(v) for v in values]


def _box_of(location: tuple[int, int, int, int]) -> Box:
    top, right, bottom, left = location
    return (left, top, max(1, right - left), max(1, bottom - top))


def _worker_init() -> None:
    # One thread per worker: the pool size is the parallelism, not OpenCV/BLAS threads.
    cv2.setNumThreads(1)
    import face_recognition  # noqa: F401  (load the dlib models once per worker)


def _ping() -> None:
    pass


class Encoder(Protocol):
    def submit(
        self, rgb: np.ndarray, location: tuple[int, int, int, int]
    ) -> Future[list[float] | None] | None: ...
    @property
    def backlog(self) -> int: ...
    def close(self) -> None: ...


class InlineEncoder:
    """Computes in the caller's thread (benchmarks, tests, single-core nodes)."""

    backlog = 0

    def __init__(self, verify: bool = True) -> None:
        self.verify = verify

    def submit(
        self, rgb: np.ndarray, location: tuple[int, int, int, int]
    ) -> Future[list[float] | None] | None:
        fut: Future[list[float] | None] = Future()
        try:
            fut.set_result(compute_encoding(rgb, location, self.verify))
        except Exception as exc:  # a bad crop must not stop the node
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        pass


class EncoderPool:
    """A bounded ProcessPoolExecutor (forkserver: safe with the node's threads)."""

    def __init__(self, workers: int = 1, max_pending: int = 4, verify: bool = True) -> None:
        self.verify = verify
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_worker_init,
        )
        # Start the workers now: loading dlib's models takes seconds, better spent
        # while the source opens than while the first faces wait.
        self._warmup = self._pool.submit(_ping)
        self._max = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self.completed = 0
        self.failed = 0

    @property
    def backlog(self) -> int:
        return self._pending

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until a worker has loaded the models (True) or ``timeout`` passed."""
        try:
            self._warmup.result(timeout=timeout)
            return True
        except Exception as exc:
            log.warning("encoder workers not ready after %.0f s: %s", timeout, exc)
            return False

    def submit(
        self, rgb: np.ndarray, location: tuple[int, int, int, int]
    ) -> Future[list[float] | None] | None:
        with self._lock:
            if self._pending >= self._max:
                return None
            self._pending += 1
        fut = self._pool.submit(compute_encoding, rgb, location, self.verify)
        fut.add_done_callback(self._done)
        return fut

    def _done(self, fut: Future[list[float] | None]) -> None:
        with self._lock:
            self._pending -= 1
            if fut.cancelled() or fut.exception() is not None:
                self.failed += 1
            else:
                self.completed += 1

    def close(self) -> None:
        """Finish the jobs already submitted, then stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=False)
