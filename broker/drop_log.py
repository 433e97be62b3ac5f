"""One log line a minute about messages dropped from session queues, not one per message.

The first drop is logged at once (an operator sees trouble start); later drops are
added up and logged as one summary line per ``every_s``, naming each session and
what it lost. The broker's periodic tick (broker.server) calls :meth:`DropLog.flush`
so the last drops of a burst are reported even when no more come.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from broker.session_queue import SessionQueue

log = logging.getLogger("broker.session_queue")

SUMMARY_EVERY_S = 60.0


class DropLog:
    def __init__(
        self, every_s: float = SUMMARY_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every_s = every_s
        self._clock = clock
        self._last: float | None = None
        # client -> (messages dropped since the last line, its queue)
        self._pending: dict[str, tuple[int, SessionQueue]] = {}
        self.lines = 0  # lines written (tests)

    def note(self, queue: SessionQueue, dropped: int) -> None:
        """``queue`` just dropped ``dropped`` messages (the oldest queued)."""
        n, _ = self._pending.get(queue.client, (0, queue))
        self._pending[queue.client] = (n + dropped, queue)
        self.flush()

    def flush(self, *, force: bool = False) -> None:
        """Write the summary if there is one and the last line is old enough."""
        if not self._pending:
            return
        now = self._clock()
        if not force and self._last is not None and now - self._last < self.every_s:
            return
        since = "" if self._last is None else f" in the last {now - self._last:.0f} s"
        parts = [
            f"{client!r} {n} (queue {q.queued} queued + {q.inflight} in flight, "
            f"{q.bytes / 2**20:.1f} MiB; {q.dropped} dropped in all)"
            for client, (n, q) in sorted(self._pending.items())
        ]
        bound = next(iter(self._pending.values()))[1].bound
        log.warning(
            "dropped the oldest queued messages of sessions over their bound "
            "(%d messages / %.0f MiB)%s: %s",
            bound.max_messages,
            bound.max_bytes / 2**20,
            since,
            "; ".join(parts),
        )
        self._pending.clear()
        self._last = now
        self.lines += 1
