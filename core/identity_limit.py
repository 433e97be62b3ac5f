"""How many new anonymous identities one camera may create per minute.

A stranger is a new identity once; a camera that keeps sending faces nobody has
seen (a forged or broken camera, a crowd of printed photos) would otherwise fill the
database and the live view with thousands of "Unknown N" in minutes: 300 messages of
32 random faces made 9,600 identities. Each camera has a token bucket of
``per_minute`` new identities, refilled evenly; over it the face stays
"unidentified" (no identity), is counted, and the burst is logged once, then
summed up once per window.

Time is core's own clock on receipt, not the camera's capture time: a camera
cannot buy itself tokens with a clock hours ahead.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)


class NewIdentityLimit:
    """Per-camera token buckets of new anonymous identities (0: no limit)."""

    def __init__(
        self,
        per_minute: int,
        *,
        log_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._log_window_s = log_window_s
        self._buckets: dict[str, tuple[float, float]] = {}  # camera -> (tokens, at)
        self._logged_until: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()
        self._undo: dict[str, tuple[float, float]] | None = None

    def begin(self) -> None:
        """A batch starts: its tokens come back should it not be stored."""
        self._undo = dict(self._buckets)

    def rollback(self) -> None:
        """The batch was not stored: the identities it took tokens for were not made
        (a store outage retried every second must not use up a camera's budget)."""
        if self._undo is not None:
            self._buckets, self._undo = self._undo, None

    def allow(self, camera_id: str) -> bool:
        """May this camera create one more anonymous identity now? (Takes a token.)"""
        if self.per_minute <= 0:
            return True
        now = self._clock()
        tokens, at = self._buckets.get(camera_id, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
        if tokens >= 1.0:
            self._buckets[camera_id] = (tokens - 1.0, now)
            return True
        self._buckets[camera_id] = (tokens, now)
        self._note_refusal(camera_id, now)
        return False

    def _note_refusal(self, camera_id: str, now: float) -> None:
        until = self._logged_until.get(camera_id)
        if until is not None and now < until:
            self._suppressed[camera_id] += 1
            return
        more = self._suppressed.pop(camera_id, 0)
        if more:
            log.warning(
                "camera %s: %d more new face(s) left unidentified in the last %.0f s",
                camera_id,
                more,
                self._log_window_s,
            )
        self._logged_until[camera_id] = now + self._log_window_s
        log.warning(
            "camera %s creates new anonymous identities faster than %d a minute: "
            "its new faces stay unidentified until the rate falls",
            camera_id,
            self.per_minute,
        )
