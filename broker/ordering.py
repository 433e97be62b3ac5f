"""A connection's packets take effect in the order the client sent them (MQTT 3.1.1 §4.6).

amqtt 0.12.1 handles each packet read in a task of its own, and a SUBSCRIBE or
UNSUBSCRIBE only queues work for the broker's client loop, which applies it later
and sends the SUBACK/UNSUBACK. SRS routes a PUBLISH in the task that read it
(broker.routing), so a PUBLISH sent right after a SUBSCRIBE on the same connection
could be routed before that subscription existed (lost), and one sent after an
UNSUBSCRIBE still delivered.

:class:`PacketOrder` serialises them: each handler task takes the connection's lock
as its first step (tasks start in the order the reader created them, and an asyncio
lock is granted first come, first served), and a SUBSCRIBE or UNSUBSCRIBE holds it
until the broker has acknowledged it, i.e. applied it.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

# Longest a SUBSCRIBE/UNSUBSCRIBE holds up the connection's later packets if the broker
# never acknowledges it (a handler that is stopping); normally well under a millisecond.
ACK_WAIT_S = 10.0


class PacketOrder:
    """The lock a connection's packet handlers take, and the acknowledgements they await."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._acks: dict[int, asyncio.Future[None]] = {}

    def expect_ack(self, packet_id: int) -> asyncio.Future[None]:
        """A future resolved by :meth:`acked` for ``packet_id`` (call before queueing)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[packet_id] = fut
        return fut

    def acked(self, packet_id: int) -> None:
        fut = self._acks.pop(packet_id, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def wait(self, fut: asyncio.Future[None], packet_id: int, client: str | None) -> None:
        try:
            await asyncio.wait_for(fut, ACK_WAIT_S)
        except TimeoutError:
            log.warning("client %r: packet %d not acknowledged in time", client, packet_id)
        finally:
            self._acks.pop(packet_id, None)
