"""What makes a client's packet malformed (MQTT 3.1.1), judged on its whole body.

amqtt 0.12.1 decodes a packet straight from the socket and, when decoding fails part
way (a wildcard in a PUBLISH topic), discards the packet *and keeps reading*: the
rest of its bytes were then read as new packets (a PINGREQ hidden in a payload was
answered). It also turned invalid UTF-8 into Python's ``repr`` of the bytes, and
granted QoS 3, empty SUBSCRIBE/UNSUBSCRIBE packets and empty or NUL topic filters.

SRS reads each packet's whole body first (broker.reader) and asks :func:`malformed`;
a packet it names closes the connection, as the standard says. Pure functions: no
socket, no amqtt, so the decoder can be tested (and fuzzed) on bytes alone.
"""

from __future__ import annotations

import struct

from amqtt.adapters import ReaderAdapter
from amqtt.errors import NoDataError

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = range(8, 15)

# Packets a broker receives after CONNECT, with the fixed-header flags each must carry
# (MQTT-2.2.2-1/2; PUBLISH's are its DUP, QoS and RETAIN, checked below).
_FLAGS = {PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0, SUBSCRIBE: 2, UNSUBSCRIBE: 2}
_FLAGS |= {PINGREQ: 0, DISCONNECT: 0}


class Malformed(ValueError):
    """A protocol violation, with the sentence the broker logs when it closes."""


def _string(body: bytes, at: int, what: str) -> tuple[str, int]:
    """The UTF-8 string at ``at`` and the offset after it (MQTT-1.5.3-1/2)."""
    if at + 2 > len(body):
        raise Malformed(f"{what} is cut short")
    (n,) = struct.unpack_from("!H", body, at)
    end = at + 2 + n
    if end > len(body):
        raise Malformed(f"{what} is longer than the packet")
    try:
        text = body[at + 2 : end].decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"{what} is not valid UTF-8 (MQTT-1.5.3-1)") from None
    if "\x00" in text:
        raise Malformed(f"{what} contains U+0000 (MQTT-1.5.3-2)")
    if not text:
        raise Malformed(f"{what} is empty (MQTT-4.7.3-1)")
    return text, end


def _check_filter(text: str) -> None:
    levels = text.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise Malformed(f"topic filter {text!r} misplaces '#' (MQTT-4.7.1-2)")
        if "+" in level and level != "+":
            raise Malformed(f"topic filter {text!r} misplaces '+' (MQTT-4.7.1-3)")


def _publish(flags: int, body: bytes) -> None:
    qos = (flags >> 1) & 3
    if qos == 3:
        raise Malformed("PUBLISH with QoS 3 (MQTT-3.3.1-4)")
    topic, end = _string(body, 0, "PUBLISH topic")
    if "+" in topic or "#" in topic:
        raise Malformed(f"PUBLISH topic {topic!r} holds a wildcard (MQTT-3.3.2-2)")
    if qos and end + 2 > len(body):
        raise Malformed("PUBLISH lacks its packet identifier")


def _subscribe(body: bytes) -> None:
    at, count = 2, 0
    while at < len(body):
        text, at = _string(body, at, "topic filter")
        _check_filter(text)
        if at >= len(body):
            raise Malformed(f"topic filter {text!r} has no QoS byte")
        if body[at] > 2:
            raise Malformed(f"SUBSCRIBE for QoS byte {body[at]:#04x} (MQTT-3-8.3-4)")
        at, count = at + 1, count + 1
    if count == 0:
        raise Malformed("SUBSCRIBE without a topic filter (MQTT-3.8.3-3)")


def _unsubscribe(body: bytes) -> None:
    at, count = 2, 0
    while at < len(body):
        text, at = _string(body, at, "topic filter")
        _check_filter(text)
        count += 1
    if count == 0:
        raise Malformed("UNSUBSCRIBE without a topic filter (MQTT-3.10.3-2)")


def malformed(packet_type: int, flags: int, body: bytes) -> str | None:
    """Why a packet a client sent after CONNECT breaks the standard, or None."""
    try:
        if packet_type == PUBLISH:
            _publish(flags, body)
            return None
        if packet_type not in _FLAGS:
            return f"a client may not send packet type {packet_type} here (MQTT-3.1.0-2)"
        if flags != _FLAGS[packet_type]:
            return f"packet type {packet_type} with reserved flags {flags:#x} (MQTT-2.2.2-2)"
        if packet_type in (PUBACK, PUBREC, PUBREL, PUBCOMP) and len(body) != 2:
            return f"packet type {packet_type} must be 2 bytes long, not {len(body)}"
        if packet_type in (SUBSCRIBE, UNSUBSCRIBE) and len(body) < 2:
            return "SUBSCRIBE/UNSUBSCRIBE lacks its packet identifier"
        if packet_type == SUBSCRIBE:
            _subscribe(body)
        elif packet_type == UNSUBSCRIBE:
            _unsubscribe(body)
        elif packet_type in (PINGREQ, DISCONNECT) and body:
            return f"packet type {packet_type} carries {len(body)} unexpected bytes"
    except Malformed as exc:
        return str(exc)
    return None


class BytesReader(ReaderAdapter):
    """amqtt's decoders reading one packet's body from memory, never past its end."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = len(self._data) - self._at
        if self._at + n > len(self._data):
            raise NoDataError("read past the end of the packet")
        out = bytes(self._data[self._at : self._at + n])
        self._at += n
        return out

    def feed_eof(self) -> None:
        self._at = len(self._data)


# MQTT 3.1.1 is protocol level 4; 3.1 spoke "MQIsdp" at level 3, 5 speaks "MQTT" at 5.
SUPPORTED_LEVEL = 4
_PROTOCOL_NAMES = ("MQTT", "MQIsdp")


def unsupported_level(body: bytes) -> int | None:
    """The protocol level of a CONNECT body when it is an MQTT version other than
    3.1.1 (MQTT-3.1.2-2: answered with CONNACK 1, then closed), else None: 3.1.1, or
    not recognisably MQTT at all (left to the CONNECT decoder, which closes)."""
    try:
        name, at = _string(body, 0, "protocol name")
    except Malformed:
        return None
    if name not in _PROTOCOL_NAMES or at >= len(body):
        return None
    level = body[at]
    return None if level == SUPPORTED_LEVEL else level
