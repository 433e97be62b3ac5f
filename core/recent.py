"""The recent zone events and alerts core published, kept in memory for a while.

A dashboard that signs in asks for them (``QueryHistory(recent_events=True)``), so
the guard sees what happened before: alerts and zone events are live messages, not
stored. Bounded in count and age; lost when core restarts.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from srs.wire.payloads import Alert, ZoneEvent

MAX_EVENTS = 500
MAX_AGE_S = 24 * 3600.0


class RecentEvents:
    def __init__(self, max_events: int = MAX_EVENTS, max_age_s: float = MAX_AGE_S) -> None:
        self._events: deque[ZoneEvent | Alert] = deque(maxlen=max_events)
        self.max_age_s = max_age_s

    def record(self, payload: object) -> None:
        """Keep ``payload`` if it is a zone event or an alert (anything else is ignored)."""
        if isinstance(payload, ZoneEvent | Alert):
            self._events.append(payload)

    def since(
        self, since: float | None = None, until: float | None = None, now: float | None = None
    ) -> list[dict[str, Any]]:
        """The kept events in ``[since, until]`` as plain dicts, newest first."""
        oldest = (time.time() if now is None else now) - self.max_age_s
        low = max(oldest, since if since is not None else oldest)
        return [
            e.model_dump(mode="json")
            for e in reversed(self._events)
            if e.at >= low and (until is None or e.at <= until)
        ]
