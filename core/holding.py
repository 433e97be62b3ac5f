"""What core holds while it cannot write its database, and the outage it is in.

A batch that fails to store on a database error (locked, disk full, I/O) is not
dropped for the cameras to re-send after their ack timeout (15 s): its verified
messages are held here, keyed by (camera, seq) so that a camera's re-send of a held
message is held once, and tried again every ``retry_s``, oldest first. So everything
is stored about a second after the database works again. Between tries, what arrives
is only held: no failing transaction, no rollback, no log line per batch.

Held messages were never acked: should core die, the cameras still have them. The
hold is bounded (``limit``, core's ``queue_size``); beyond it a message is not held,
and its camera sends it again.

One operational alert per outage ("core cannot write its database: disk full"),
and one when it ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core import alerts
from core.messages import Incoming
from srs.wire.payloads import Alert, DetectionBatch

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (camera id, seq)
Item = tuple[Incoming, DetectionBatch]
RETRY_S = 1.0


def cause(exc: BaseException) -> str:
    """The database's own words for what went wrong, short: "disk full (database or
    disk is full)", "database locked (database is locked)"."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    said = detail[0][:160] if detail else type(exc).__name__
    low = said.lower()
    if "full" in low or "no space" in low:
        return f"disk full ({said})"
    if "locked" in low or "busy" in low:
        return f"database locked ({said})"
    return said


@dataclass(slots=True)
class Outage:
    since: float  # monotonic
    cause: str
    failures: int = 1


class Holding:
    def __init__(
        self,
        limit: int,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.retry_s = retry_s
        self._clock, self._wall = clock, wall
        self._held: dict[Key, Item] = {}
        self.outage: Outage | None = None
        self._next_try = 0.0
        self.not_held = 0  # over the limit: left to their cameras to send again

    def __len__(self) -> int:
        return len(self._held)

    def due(self) -> bool:
        """Whether to try the store now: always, unless an outage waits for its retry."""
        return self.outage is None or self._clock() >= self._next_try

    def hold(self, items: Iterable[Item]) -> None:
        for msg, batch in items:
            key = (batch.camera_id, batch.seq)
            if key in self._held:
                continue
            if len(self._held) >= self.limit:
                self.not_held += 1
                continue
            self._held[key] = (msg, batch)

    def take(self, fresh: list[Item], most: int) -> list[Item]:
        """Up to ``most`` messages to try: the held ones first (oldest), then ``fresh``
        (but for re-sends of held ones); the rest stays held."""
        held, self._held = self._held, {}
        items = list(held.values())
        items += [(m, b) for m, b in fresh if (b.camera_id, b.seq) not in held]
        self.hold(items[most:])
        return items[:most]

    def failed(self, exc: BaseException) -> Alert | None:
        """A try failed on ``exc``: the next one in ``retry_s``; an alert if this
        begins an outage."""
        self._next_try = self._clock() + self.retry_s
        if self.outage is not None:
            self.outage.failures += 1
            return None
        self.outage = Outage(self._clock(), cause(exc))
        message = (
            f"core cannot write its database: {self.outage.cause}. It holds what the "
            f"cameras send and retries every {self.retry_s:g} s; nothing is lost meanwhile"
        )
        log.error("%s", message)  # the cause says it all; a traceback only at debug
        log.debug("the store's error", exc_info=exc)
        return alerts.store_error(message, self._wall())

    def stored(self) -> Alert | None:
        """A try succeeded: the outage (if any) is over."""
        outage, self.outage = self.outage, None
        if outage is None:
            return None
        took = self._clock() - outage.since
        message = (
            f"core can write its database again, after {took:.0f} s "
            f"({outage.cause}; {outage.failures} failed tries)"
        )
        log.warning("%s", message)
        return alerts.store_error(message, self._wall(), recovered=True)
