"""What the broker holds for one client session: messages queued and messages in flight.

amqtt 0.12.1 sends every delivery in a task of its own that waits 5 s for the PUBACK,
then forgets the message (two warnings each; 397 lines in 40 s while core was
paused), and keeps an offline persistent session's messages in an unbounded queue
(the broker grew 26 KB/s while core was away and never shrank). SRS keeps, per
session, one :class:`SessionQueue`:

* **queued**: messages routed to the session and not yet sent (the session is
  offline, or its in-flight window is full), oldest first;
* **in flight**: QoS 1 messages sent and not yet acknowledged, kept (under amqtt's
  ``session.inflight_out``, by packet id, in send order) until their PUBACK arrives,
  however long that takes, and re-sent with DUP=1 under their original packet ids
  when a persistent session reconnects (MQTT-4.4.0-1). Nothing is re-sent on a
  timer: MQTT 3.1.1 re-sends only on reconnect.

Both count against one bound, by messages and by bytes (``[broker]
session_max_messages`` and ``session_max_bytes``). Over it the **oldest queued**
message is dropped: a message in flight may already be in the client's hands and is
never dropped, and for SRS the newest is worth most (a camera re-sends whatever core
has not acknowledged, so an old copy dropped here comes again). Every drop is
counted here and in the broker's :class:`DropTally`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueueBound:
    """How much one session may hold (queued + in flight), and its in-flight window."""

    max_messages: int = 20_000
    max_bytes: int = 64 * 1024 * 1024
    inflight: int = 100  # QoS 1 messages sent and not yet acknowledged

    def __post_init__(self) -> None:
        if self.max_messages < 1 or self.max_bytes < 1 or not 1 <= self.inflight <= 65_535:
            raise ValueError(f"a session queue bound needs positive limits, not {self}")


@dataclass(slots=True)
class Pending:
    """One message routed to a session, not yet sent."""

    topic: str
    data: bytes
    qos: int
    retain: bool = False  # only for a retained message sent on SUBSCRIBE

    @property
    def size(self) -> int:
        # What it costs to keep: the payload and the topic (the rest is constant).
        return len(self.data) + len(self.topic)


@dataclass
class DropTally:
    """The broker's drops over all sessions (for its totals and its status)."""

    messages: int = 0
    bytes: int = 0
    by_client: dict[str, int] = field(default_factory=dict)  # bounded by the sessions

    def add(self, client: str, n: int, size: int) -> None:
        self.messages += n
        self.bytes += size
        self.by_client[client] = self.by_client.get(client, 0) + n


class SessionQueue:
    """The queued and in-flight messages of one session, bounded together."""

    def __init__(self, client: str, bound: QueueBound, tally: DropTally | None = None) -> None:
        self.client = client
        self.bound = bound
        self.tally = tally if tally is not None else DropTally()
        self._queued: deque[Pending] = deque()
        self.queued_bytes = 0
        self._inflight_sizes: dict[int, int] = {}  # packet id -> size
        self.inflight_bytes = 0
        self.dropped = 0
        self.dropped_bytes = 0
        # Set when the pump may have work: something queued, or a window slot freed.
        self.ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queued) + len(self._inflight_sizes)

    @property
    def queued(self) -> int:
        return len(self._queued)

    @property
    def inflight(self) -> int:
        return len(self._inflight_sizes)

    @property
    def bytes(self) -> int:
        return self.queued_bytes + self.inflight_bytes

    def put(self, item: Pending) -> int:
        """Queue ``item``; drop the oldest queued messages while over the bound (the new
        one too if nothing older can go). Returns how many were dropped."""
        self._queued.append(item)
        self.queued_bytes += item.size
        dropped = dropped_bytes = 0
        while self._queued and (
            len(self) > self.bound.max_messages or self.bytes > self.bound.max_bytes
        ):
            old = self._queued.popleft()
            self.queued_bytes -= old.size
            dropped += 1
            dropped_bytes += old.size
        if dropped:
            self.dropped += dropped
            self.dropped_bytes += dropped_bytes
            self.tally.add(self.client, dropped, dropped_bytes)
        if self._queued:
            self.ready.set()
        return dropped

    def next_ready(self) -> Pending | None:
        """The next message to send now (QoS 0 always, QoS 1 while the window has room),
        taken off the queue; None when there is none."""
        if not self._queued:
            self.ready.clear()
            return None
        head = self._queued[0]
        if head.qos and self.inflight >= self.bound.inflight:
            self.ready.clear()
            return None
        self._queued.popleft()
        self.queued_bytes -= head.size
        return head

    def sent(self, packet_id: int, item: Pending) -> None:
        """``item`` went out as QoS 1 under ``packet_id``: in flight until acknowledged."""
        self._inflight_sizes[packet_id] = item.size
        self.inflight_bytes += item.size

    def acknowledged(self, packet_id: int) -> bool:
        """The PUBACK for ``packet_id`` came: its slot is free. False: not ours."""
        size = self._inflight_sizes.pop(packet_id, None)
        if size is None:
            return False
        self.inflight_bytes -= size
        if self._queued:
            self.ready.set()
        return True

    def clear(self) -> None:
        """The session ended (clean session): forget everything, nothing is counted."""
        self._queued.clear()
        self._inflight_sizes.clear()
        self.queued_bytes = self.inflight_bytes = 0
        self.ready.clear()
