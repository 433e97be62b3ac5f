"""128-d face encodings off the capture path, in a bounded pool of worker processes.

Only a crop around the face crosses the process boundary (not the frame). The
pool never holds more than ``encoder_queue`` jobs: :meth:`EncoderPool.submit`
returns None when it is full and the caller simply asks again on a later frame.

A worker that dies (killed, out of memory, a crash in dlib) breaks a
ProcessPoolExecutor for good. The pool is then replaced by a new one (counted in
``restarts``) and each job it lost is tried once more on the new pool; a job that
fails again fails its future, which the analyser counts like a refused face. A
worker whose node died exits by itself (it checks every second) instead of lingering.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

import cv2
import numpy as np

from edge.detect import Box, expand, iou
from srs.orphans import exit_when_gone

log = logging.getLogger(__name__)

DECIMALS = 5
CROP_MARGIN = 0.5  # of the face size on each side: landmarks need some context
VERIFY_FACE_PX = 130  # HOG (no upsampling) reliably sees faces from ~80 px
ORPHAN_CHECK_S = 1.0  # how often a worker checks that its node is still there
# A pool that keeps dying (a worker that cannot start) is replaced at most this
# often; meanwhile its jobs fail at once (counted) instead of spawning workers.
RESTART_MIN_INTERVAL_S = 5.0


def crop_for_encoding(bgr: np.ndarray, box: Box) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """RGB crop around ``box`` and the face location in it as (top, right, bottom, left)."""
    height, width = bgr.shape[:2]
    cx, cy, cw, ch = expand(box, CROP_MARGIN, width, height)
    crop = np.ascontiguousarray(bgr[cy : cy + ch, cx : cx + cw, ::-1])
    x, y, w, h = box
    top, left = y - cy, x - cx
    return crop, (top, left + w, top + h, left)


# compute_encoding's arguments, as a job carries them to a worker (and again on a retry).
EncodeArgs = tuple[np.ndarray, tuple[int, int, int, int], bool]


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


def _worker_init(node: int) -> None:
    # A killed node cannot stop its workers, and their parent is the forkserver,
    # which itself lives as long as any worker does: watch the node instead.
    exit_when_gone(node, ORPHAN_CHECK_S)
    # One thread per worker: the pool size is the parallelism, not OpenCV/BLAS threads.
    cv2.setNumThreads(1)
    import face_recognition  # noqa: F401  (load the dlib models once per worker)


def _ping() -> None:
    pass


class Encoder(Protocol):
    def submit(
        self, rgb: np.ndarray, location: tuple[int, int, int, int], *, wait: bool = False
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
        self, rgb: np.ndarray, location: tuple[int, int, int, int], *, wait: bool = False
    ) -> Future[list[float] | None] | None:
        fut: Future[list[float] | None] = Future()
        try:
            fut.set_result(compute_encoding(rgb, location, self.verify))
        except Exception as exc:  # noqa: BLE001 - a bad crop must not stop the node
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        pass


class EncoderPool:
    """A bounded ProcessPoolExecutor (forkserver: safe with the node's threads) that
    replaces itself when a worker dies."""

    def __init__(self, workers: int = 1, max_pending: int = 4, verify: bool = True) -> None:
        self.verify = verify
        self._workers = workers
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        self._context = multiprocessing.get_context(method)
        self._pool = self._new_pool()
        # Start the workers now: loading dlib's models takes seconds, better spent
        # while the source opens than while the first faces wait.
        self._warmup = self._pool.submit(_ping)
        self._max = max_pending
        self._pending = 0
        self._cond = threading.Condition()
        self._closed = False
        self.completed = 0
        self.failed = 0
        self.restarts = 0  # pools replaced because a worker died
        self.retried = 0  # jobs tried again on a new pool
        self._restarted_at = -math.inf

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=self._context,
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    @property
    def backlog(self) -> int:
        return self._pending

    @property
    def worker_pids(self) -> list[int]:
        """The current workers' process ids (for status and tests)."""
        return list(getattr(self._pool, "_processes", None) or {})

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until a worker has loaded the models (True) or ``timeout`` passed."""
        try:
            self._warmup.result(timeout=timeout)
            return True
        except Exception as exc:  # noqa: BLE001 - the warm-up carries whatever the worker raised
            log.warning("encoder workers not ready after %.0f s: %s", timeout, exc)
            return False

    def submit(
        self, rgb: np.ndarray, location: tuple[int, int, int, int], *, wait: bool = False
    ) -> Future[list[float] | None] | None:
        """Queue one encoding; None when the pool is full (``wait``: wait for room)."""
        with self._cond:
            while self._pending >= self._max:
                if not wait or self._closed:
                    return None
                self._cond.wait(0.5)
            self._pending += 1
        outer: Future[list[float] | None] = Future()
        self._start(outer, (rgb, location, self.verify), retry=True)
        return outer

    def _start(self, outer: Future[list[float] | None], args: EncodeArgs, retry: bool) -> None:
        pool = self._pool
        try:
            inner = pool.submit(compute_encoding, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # broken, or shut down by a replacement
            if retry and self._replace(pool):
                self.retried += 1
                self._start(outer, args, retry=False)
            else:
                self._finish(outer, None, exc)
            return
        inner.add_done_callback(lambda f: self._finished(outer, args, retry, pool, f))

    def _finished(
        self,
        outer: Future[list[float] | None],
        args: EncodeArgs,
        retry: bool,
        pool: ProcessPoolExecutor,
        inner: Future[list[float] | None],
    ) -> None:
        # Runs in the pool's management thread (or the submitting one).
        exc = inner.exception() if not inner.cancelled() else RuntimeError("cancelled")
        if isinstance(exc, BrokenProcessPool) and retry and self._replace(pool):
            self.retried += 1
            self._start(outer, args, retry=False)
            return
        self._finish(outer, None if exc else inner.result(), exc)

    def _finish(
        self,
        outer: Future[list[float] | None],
        result: list[float] | None,
        exc: BaseException | None,
    ) -> None:
        with self._cond:
            self._pending -= 1
            if exc is None:
                self.completed += 1
            else:
                self.failed += 1
            self._cond.notify_all()
        if exc is None:
            outer.set_result(result)
        else:
            outer.set_exception(exc)

    def _replace(self, broken: ProcessPoolExecutor) -> bool:
        """A new pool for a broken one (once, however many jobs noticed it).

        False when there is none to retry on: closing, or the last replacement was
        less than ``RESTART_MIN_INTERVAL_S`` ago.
        """
        with self._cond:
            if self._closed:
                return False
            if self._pool is not broken:
                return True  # another job's failure replaced it already
            now = time.monotonic()
            if now - self._restarted_at < RESTART_MIN_INTERVAL_S:
                return False
            # The broken pool shuts itself down; shutting it down from here could
            # run inside its own management thread.
            self._pool = self._new_pool()
            self._restarted_at = now
            self.restarts += 1
        log.warning("an encoder worker died: encoder pool replaced (restart %d)", self.restarts)
        return True

    def close(self) -> None:
        """Finish the jobs already submitted, then stop the workers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            pool = self._pool
        pool.shutdown(wait=True, cancel_futures=False)
