"""Health of the ingest: counters, latency percentiles, and burst-limited rejection logs."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

import numpy as np

from srs import __version__
from srs.wire.payloads import CoreStatus

log = logging.getLogger(__name__)

# Refusals that say nothing about forgery: a message of a camera the operator
# disabled (its outbox still drains), a batch the store could not commit. They are
# counted and shown like any other, but do not feed the rejection-burst alarm.
CAMERA_DISABLED = "camera_disabled"
STORE_ERROR = "store_error"
NOT_SECURITY = frozenset({CAMERA_DISABLED, STORE_ERROR})


class Counters:
    """What core has seen since it started (thread-safe; read by the heartbeat)."""

    def __init__(self, latency_window: int = 4096) -> None:
        self._lock = threading.Lock()
        self.received = 0
        self.accepted = 0
        self.duplicates = 0
        self.matched = 0
        self.unknown = 0
        self.identities_limited = 0  # new faces left unidentified (core/identity_limit.py)
        self.rejected: Counter[str] = Counter()
        self._latency_ms: deque[float] = deque(maxlen=latency_window)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, n in deltas.items():
                setattr(self, name, getattr(self, name) + n)

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def reset_latency(self) -> None:
        with self._lock:
            self._latency_ms.clear()

    def rejected_total(self) -> int:
        with self._lock:
            return sum(self.rejected.values())

    def security_rejections(self) -> int:
        """Refusals that may mean forged or misconfigured senders (not NOT_SECURITY)."""
        with self._lock:
            return sum(n for r, n in self.rejected.items() if r not in NOT_SECURITY)

    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency_ms.append(seconds * 1000.0)

    def percentiles(self) -> tuple[float | None, float | None]:
        with self._lock:
            data = np.fromiter(self._latency_ms, dtype=np.float64)
        if not len(data):
            return None, None
        p50, p99 = np.percentile(data, [50, 99])
        return float(p50), float(p99)

    def status(self, state: str, interval_s: float, now: float | None = None) -> CoreStatus:
        p50, p99 = self.percentiles()
        with self._lock:
            return CoreStatus(
                state=state,  # type: ignore[arg-type]
                sent_at=time.time() if now is None else now,
                heartbeat_interval_s=interval_s,
                version=__version__[:32],
                received=self.received,
                accepted=self.accepted,
                duplicates=self.duplicates,
                rejected=dict(self.rejected.most_common(32)),
                matched=self.matched,
                unknown=self.unknown,
                identities_limited=self.identities_limited,
                latency_p50_ms=p50,
                latency_p99_ms=p99,
            )


class BurstLog:
    """Logs (and audits) the first rejection of a burst, then one summary per window.

    A flood of forged messages must not become a flood of log lines or audit rows.
    """

    def __init__(
        self,
        audit: Callable[[str, str], None],
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self._window_s = window_s
        self._clock = clock
        self._until: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def record(self, reason: str, sentence: str, where: str) -> None:
        now = self._clock()
        self.flush(now)
        if reason in self._until:
            self._suppressed[reason] += 1
            return
        self._until[reason] = now + self._window_s
        log.warning("rejected a message on %s: %s", where, sentence)
        self._audit(f"reject_{reason}", f"{where}: {sentence}")

    def flush(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        for reason, until in list(self._until.items()):
            if until > now:
                continue
            del self._until[reason]
            n = self._suppressed.pop(reason, 0)
            if n:
                log.warning(
                    "rejected %d more message(s) for %s in the last %.0f s",
                    n,
                    reason,
                    self._window_s,
                )
                self._audit(f"reject_{reason}", f"{n} more in {self._window_s:.0f} s")
