"""A token bucket per camera: a camera over its rate is slowed, not heard first.

Without it one camera's burst of 20,000 valid messages went through the broker as
fast as it arrived and queued in core's session ahead of every other camera: another
camera's ack latency rose from ~10 ms to seconds, and the broker's and core's memory
grew with the queue (bench/flood.py). With it, the reader of a camera that has used
its tokens waits before it handles the camera's next detection PUBLISH
(broker.reader), so it stops reading that socket: TCP back-pressure holds the excess
in the camera's own outbox. Nothing is dropped and nothing is buffered here; the
camera's QoS 1 window simply fills.

``rate`` messages/s on average per camera user (all of its connections share one
bucket, so reconnecting does not refill it) and ``burst`` at once: an edge re-sends
up to ``max_inflight`` (200) messages right after a reconnect, so the default burst
lets a reconnect through unslowed. ``rate = 0`` turns the throttle off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved; a take may borrow ahead."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> float:
        """Take one token; returns how long to wait before using it (0: now). Tokens
        taken while waiting are owed, so concurrent takers queue in order."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class CameraThrottle:
    """One bucket per camera user; counts what it slowed."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}  # bounded: one per camera user
        self.slowed = 0  # publishes that had to wait
        self.waited_s = 0.0  # their total wait

    async def admit(self, user: str) -> None:
        """Return when ``user`` may publish its next detection message."""
        if self.rate <= 0:
            return
        bucket = self._buckets.get(user)
        if bucket is None:
            bucket = self._buckets[user] = TokenBucket(self.rate, self.burst)
        delay = bucket.take()
        if delay > 0:
            self.slowed += 1
            self.waited_s += delay
            await asyncio.sleep(delay)
