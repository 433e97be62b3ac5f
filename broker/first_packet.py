"""A connection's first packet, read whole before amqtt sees it.

amqtt 0.12.1 decodes an MQTT 5 CONNECT as if it were 3.1.1: the properties MQTT 5
puts after the keepalive shift every field, the decoder waits for bytes that never
come, and the client hears nothing. paho's MQTT 5 client (``[mqtt] protocol =
"auto"``, srs.mqtt.session) then waited its 3 s probe before falling back to 3.1.1,
on every start of every SRS client. MQTT-3.1.2-2 says what a 3.1.1 server does with
a protocol level it does not support: CONNACK return code 1 ("unacceptable protocol
version"), then close. paho reads that as "Unsupported protocol version" (0x84) and
the session falls back at once.

So the broker reads the first packet itself (bounded by the connection's
LimitedReader and by ``timeout``): a CONNECT at another protocol level is answered
here; anything that is not a CONNECT is closed without a word (MQTT-3.1.0-1); a 3.1.1
CONNECT is put back (:meth:`LimitedReader.unread`) for amqtt to decode as before.
Refused probes are not counted with refused connections: every SRS client sends one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from amqtt.adapters import WriterAdapter
from amqtt.errors import AMQTTError, NoDataError
from amqtt.mqtt.connack import UNACCEPTABLE_PROTOCOL_VERSION, ConnackPacket
from amqtt.mqtt.packet import MQTTFixedHeader

from broker import packets
from broker.reader import LimitedReader

log = logging.getLogger(__name__)


async def screen(reader: LimitedReader, writer: WriterAdapter, peer: str, timeout: float) -> bool:
    """True when the connection may go on to amqtt (its 3.1.1 CONNECT put back);
    False when it was answered or closed here."""
    try:
        first = await asyncio.wait_for(_first_packet(reader), timeout)
    except TimeoutError:
        log.warning("closed the connection from %s: no CONNECT within %.0f s", peer, timeout)
        first = None
    except (AMQTTError, NoDataError, asyncio.IncompleteReadError, ConnectionError) as exc:
        # PacketTooLarge, a bad remaining length, or a peer gone mid-packet.
        log.warning("closed the connection from %s before its CONNECT: %s", peer, exc)
        first = None
    if first is None:
        await _close(writer)
        return False
    header, body = first
    if header.packet_type != packets.CONNECT:
        log.warning("closed the connection from %s: its first packet was not a CONNECT", peer)
        await _close(writer)
        return False
    level = packets.unsupported_level(body)
    if level is not None:
        log.info(
            "refused a CONNECT from %s: protocol level %d (this broker speaks MQTT 3.1.1)",
            peer,
            level,
        )
        with contextlib.suppress(ConnectionError):
            await ConnackPacket.build(0, UNACCEPTABLE_PROTOCOL_VERSION).to_stream(writer)
        await _close(writer)
        return False
    reader.unread(header.to_bytes() + body)
    return True


async def _first_packet(reader: LimitedReader) -> tuple[MQTTFixedHeader, bytes] | None:
    header = await MQTTFixedHeader.from_stream(reader)
    if header is None:
        return None  # closed before a byte: a port check, nothing to say
    size = header.remaining_length
    return header, await reader.read(size) if size else b""


async def _close(writer: WriterAdapter) -> None:
    with contextlib.suppress(OSError):  # already gone (ConnectionError is an OSError)
        await writer.close()
