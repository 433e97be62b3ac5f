"""Health of the ingest: counters, latency percentiles, and burst-limited rejection logs."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np

from core.shared_counters import Snapshot
from srs import __version__
from srs.wire.payloads import BROKER_COUNTS, BrokerStatus, CoreStatus

log = logging.getLogger(__name__)

# Refusals that say nothing about forgery: a message of a camera the operator
# disabled (its outbox still drains); an authentic copy that is merely late (a copy
# the broker queued while core was away, of a message stored since or re-sent fresh
# by its camera); an authentic message from a camera whose clock is off. They are
# counted and shown like any other, but do not feed the rejection-burst alarm and
# write no security audit row. (Store errors are no refusal at all: core holds those
# messages and stores them once it can, core/holding.py.)
CAMERA_DISABLED = "camera_disabled"
STORE_ERROR = "store_error"  # older cores counted failed batches under this reason
STALE = "stale"
CLOCK_AHEAD: Final = "clock_ahead"
CLOCK_BEHIND: Final = "clock_behind"
NOT_SECURITY = frozenset({CAMERA_DISABLED, STORE_ERROR, STALE, CLOCK_AHEAD, CLOCK_BEHIND})


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
        self._broker: BrokerStatus | None = None  # the broker's last verified status
        # The other live core instances' counters, summed into the status (set by the
        # leader at each lease renewal, core/shared_counters.py; empty for one core).
        self._peers: tuple[Snapshot, ...] = ()

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

    def broker(self, status: BrokerStatus) -> None:
        """The broker's status as it last arrived (one topic, one sender: in order)."""
        with self._lock:
            self._broker = status

    def snapshot(self) -> Snapshot:
        """This instance's own counters (what it writes for the leader to sum)."""
        with self._lock:
            return Snapshot(
                received=self.received,
                accepted=self.accepted,
                duplicates=self.duplicates,
                matched=self.matched,
                unknown=self.unknown,
                identities_limited=self.identities_limited,
                rejected=dict(self.rejected.most_common(64)),
            )

    def set_peers(self, peers: Iterable[Snapshot]) -> None:
        """The other live instances' counters, to add to this one's in :meth:`status`."""
        with self._lock:
            self._peers = tuple(peers)

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
        # Latency stays this instance's own: percentiles do not add up.
        p50, p99 = self.percentiles()
        with self._lock:
            peers = self._peers
            rejected = Counter(self.rejected)
            for peer in peers:
                rejected.update(peer.rejected)
            status = CoreStatus(
                state=state,  # type: ignore[arg-type]
                sent_at=time.time() if now is None else now,
                heartbeat_interval_s=interval_s,
                version=__version__[:32],
                received=self.received + sum(p.received for p in peers),
                accepted=self.accepted + sum(p.accepted for p in peers),
                duplicates=self.duplicates + sum(p.duplicates for p in peers),
                rejected=dict(rejected.most_common(32)),
                matched=self.matched + sum(p.matched for p in peers),
                unknown=self.unknown + sum(p.unknown for p in peers),
                identities_limited=self.identities_limited
                + sum(p.identities_limited for p in peers),
                latency_p50_ms=p50,
                latency_p99_ms=p99,
            )
            broker = self._broker
        if broker is None:
            return status  # no broker status verified: the broker fields keep defaults
        counts = {f"broker_{name}": getattr(broker, name) for name in BROKER_COUNTS}
        # Validated already (BrokerStatus's counts are CoreStatus's Count type).
        return status.model_copy(update={"broker_status_at": broker.sent_at, **counts})


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


class RepeatLog:
    """A repeating error or warning as one line (the first, with its traceback), then
    one summary line per window while it repeats (as :class:`BurstLog` does for
    rejections, without the audit): a failing disk must not be filled with logs."""

    def __init__(
        self,
        logger: logging.Logger,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._window_s = window_s
        self._clock = clock
        self._until: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def __call__(
        self, key: str, level: int, msg: str, *args: object, exc_info: bool = False
    ) -> bool:
        """Log ``msg`` unless ``key`` was logged within the window; True if logged."""
        now = self._clock()
        self.flush(now)
        if key in self._until:
            self._suppressed[key] += 1
            return False
        self._until[key] = now + self._window_s
        self._log.log(level, msg, *args, exc_info=exc_info)
        return True

    def flush(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        for key, until in list(self._until.items()):
            if until > now:
                continue
            del self._until[key]
            n = self._suppressed.pop(key, 0)
            if n:
                self._log.warning("%s: %d more time(s) in the last %.0f s", key, n, self._window_s)
