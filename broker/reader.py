"""The SRS broker's reader loop: whole packets, checked, then handled in arrival order.

Replaces amqtt 0.12.1's ``ProtocolHandler._reader_loop`` for broker connections. That
loop decoded each packet from the socket and, on a decoding error, discarded it and
went on reading in the middle of it (see broker.packets). Here each packet's body is
read whole (the connection's LimitedReader bounds it), judged by
:func:`broker.packets.malformed`, and only then decoded, from memory. A malformed
packet closes the connection (its will is sent), as MQTT 3.1.1 requires.

Handlers still run as tasks, as amqtt's do (a SUBSCRIBE waits for the broker's
client loop, a PUBLISH for its routing), and take the connection's order lock as
their first step (broker.ordering), so they act in the order the packets arrived.
The keepalive is kept by broker.silence, so reads carry no timeout.

A camera over its rate (broker.throttle) waits here, before its detection PUBLISH is
handed on: the loop stops reading its socket meanwhile, so TCP slows the camera down
and nothing piles up in the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from amqtt.adapters import ReaderAdapter
from amqtt.errors import AMQTTError, NoDataError
from amqtt.events import MQTTEvents
from amqtt.mqtt import packet_class
from amqtt.mqtt.packet import MQTTFixedHeader
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.publish import PublishPacket

from broker import packets
from broker.throttle import CameraThrottle
from srs.wire import topics

log = logging.getLogger(__name__)


class PacketTooLarge(AMQTTError):
    """A client announced a packet larger than the broker will buffer."""


class LimitedReader(ReaderAdapter):
    """Refuses any single read above ``cap`` bytes (amqtt reads a payload in one go)."""

    def __init__(self, inner: ReaderAdapter, cap: int) -> None:
        self._inner = inner
        self._cap = cap
        self._loop = asyncio.get_running_loop()
        self.last_read = self._loop.time()  # for the SilenceWatch
        self._unread = b""

    def unread(self, data: bytes) -> None:
        """Put bytes back in front of the stream (a first packet that was screened,
        broker.first_packet), to be read again by amqtt's CONNECT decoder."""
        self._unread = data + self._unread

    async def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._cap:
            raise PacketTooLarge(f"refusing to buffer {n} bytes (limit {self._cap})")
        if self._unread:  # only ever the first packet's bytes (broker.first_packet)
            head, self._unread = self._unread[:n], self._unread[n:]
            data = head if len(head) == n else head + await self._inner.read(n - len(head))
        else:
            data = await self._inner.read(n)
        self.last_read = self._loop.time()
        return data

    def feed_eof(self) -> None:
        self._inner.feed_eof()


# What each packet a client may send is handled by (CONNECT came before this loop).
_HANDLERS = {
    packets.PUBLISH: "handle_publish",
    packets.PUBACK: "handle_puback",
    packets.PUBREC: "handle_pubrec",
    packets.PUBREL: "handle_pubrel",
    packets.PUBCOMP: "handle_pubcomp",
    packets.SUBSCRIBE: "handle_subscribe",
    packets.UNSUBSCRIBE: "handle_unsubscribe",
    packets.PINGREQ: "handle_pingreq",
    packets.DISCONNECT: "handle_disconnect",
}


async def read_packets(handler: BrokerProtocolHandler) -> None:
    """Serve one connection until it closes; then stop its handler as amqtt does."""
    reader = handler.reader
    client = handler.session.client_id if handler.session else None
    running: deque[asyncio.Task[None]] = deque()
    throttle: CameraThrottle | None = getattr(handler, "throttle", None)
    user = handler.session.username if handler.session else None
    try:
        while reader is not None:
            if handler._reader_ready is not None:
                handler._reader_ready.set()
            while running and running[0].done():
                running.popleft()
            header = await MQTTFixedHeader.from_stream(reader)
            if header is None:
                break  # end of stream
            size = header.remaining_length
            body = await reader.read(size) if size else b""
            problem = packets.malformed(header.packet_type, header.flags, body)
            if problem is not None:
                log.warning("closing the connection of %r: %s", client, problem)
                break
            decoder = packet_class(header)
            packet = await decoder.from_stream(packets.BytesReader(body), fixed_header=header)
            await handler.plugins_manager.fire_event(
                MQTTEvents.PACKET_RECEIVED, packet=packet, session=handler.session
            )
            if (
                throttle is not None
                and user
                and isinstance(packet, PublishPacket)
                and topics.matches(topics.ALL_DETECTIONS, packet.topic_name or "")
            ):
                await throttle.admit(user)
            method = getattr(handler, _HANDLERS[header.packet_type])
            running.append(asyncio.create_task(method(packet)))
    except asyncio.CancelledError:
        pass
    except PacketTooLarge as exc:
        log.warning("closing the connection of %r: %s", client, exc)
    except (AMQTTError, NoDataError, asyncio.IncompleteReadError, ConnectionError) as exc:
        log.info("connection of %r ended: %r", client, exc)
    except Exception:
        log.exception("reading from %r failed: closing the connection", client)
    while running:
        running.popleft().cancel()
    await handler.handle_connection_closed()
    handler._reader_stopped.set()
    await handler.stop()
