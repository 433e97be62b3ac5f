"""MQTT 3.1.1 spoken by hand, for conformance tests: exact bytes, nothing a library fixes.

Each builder returns one whole packet; :class:`RawClient` sends them and reads whole
packets back, so a test can send what a broken or hostile client would.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

WAIT_S = 10.0  # an upper bound for failures only; nothing asserts on elapsed time

CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP = 2, 3, 4, 9, 11, 13


def utf8(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + remaining_length(len(body)) + body


def connect(
    client_id: str,
    user: str,
    password: str,
    *,
    keepalive: int = 30,
    will: tuple[str, bytes, int] | None = None,
    clean: bool = True,
) -> bytes:
    flags = 0xC0 | (0x02 if clean else 0)
    payload = utf8(client_id)
    if will is not None:
        topic, message, qos = will
        flags |= 0x04 | (qos << 3)
        payload += utf8(topic) + utf8(message)
    payload += utf8(user) + utf8(password)
    return packet(0x10, utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + payload)


def connect_at_level(level: int, client_id: str, user: str, password: str) -> bytes:
    """A CONNECT of another protocol version: MQTT 5's (level 5) as paho sends it, with
    properties (a session expiry interval) after the keepalive; "MQIsdp" for 3.1
    (level 3); any other level in 3.1.1's layout."""
    name, properties = ("MQIsdp" if level == 3 else "MQTT"), b""
    if level == 5:
        expiry = b"\x11" + struct.pack("!I", 3600)  # Session Expiry Interval
        properties = remaining_length(len(expiry)) + expiry
    head = utf8(name) + bytes([level, 0xC2]) + struct.pack("!H", 30) + properties
    return packet(0x10, head + utf8(client_id) + utf8(user) + utf8(password))


def subscribe(packet_id: int, filters: list[tuple[str | bytes, int]]) -> bytes:
    body = struct.pack("!H", packet_id) + b"".join(utf8(f) + bytes([q]) for f, q in filters)
    return packet(0x82, body)


def unsubscribe(packet_id: int, filters: list[str | bytes]) -> bytes:
    return packet(0xA2, struct.pack("!H", packet_id) + b"".join(utf8(f) for f in filters))


def publish(
    topic: str | bytes, payload: bytes, *, qos: int = 1, packet_id: int = 1, retain: bool = False
) -> bytes:
    body = utf8(topic) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return packet(0x30 | (qos << 1) | int(retain), body)


def puback(packet_id: int) -> bytes:
    return packet(0x40, struct.pack("!H", packet_id))


PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


@dataclass(frozen=True)
class Packet:
    kind: int  # the packet type (high nibble of the first byte)
    flags: int  # the low nibble
    body: bytes

    @property
    def packet_id(self) -> int:
        if self.kind == PUBLISH:
            n = struct.unpack("!H", self.body[:2])[0]
            return int(struct.unpack("!H", self.body[2 + n : 4 + n])[0])
        return int(struct.unpack("!H", self.body[:2])[0])

    @property
    def qos(self) -> int:
        return (self.flags >> 1) & 3

    @property
    def topic(self) -> str:
        n = struct.unpack("!H", self.body[:2])[0]
        return self.body[2 : 2 + n].decode()

    @property
    def payload(self) -> bytes:
        n = struct.unpack("!H", self.body[:2])[0]
        return self.body[2 + n + (2 if self.qos else 0) :]


class RawClient:
    """One TCP connection; ``read()`` returns the next whole packet, None once closed."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=WAIT_S)
        self._buf = b""

    def send(self, *packets: bytes) -> None:
        self.sock.sendall(b"".join(packets))  # one write: the broker reads them together

    def _fill(self, n: int) -> bool:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self._buf += chunk
        return True

    def read(self) -> Packet | None:
        try:
            if not self._fill(2):
                return None
            size, shift, i = 0, 0, 1
            while True:
                if not self._fill(i + 1):
                    return None
                byte = self._buf[i]
                size |= (byte & 0x7F) << shift
                shift += 7
                i += 1
                if not byte & 0x80:
                    break
            if not self._fill(i + size):
                return None
        except ConnectionResetError:
            return None
        first, body = self._buf[0], self._buf[i : i + size]
        self._buf = self._buf[i + size :]
        return Packet(first >> 4, first & 0x0F, body)

    def read_kind(self, kind: int) -> Packet:
        """The next packet of ``kind``, acknowledging QoS 1 deliveries on the way."""
        while True:
            got = self.read()
            if got is None:
                raise AssertionError(f"connection closed while waiting for packet type {kind}")
            if got.kind == PUBLISH and got.qos == 1 and kind != PUBLISH:
                self.send(puback(got.packet_id))
            if got.kind == kind:
                return got

    def closed_by_broker(self) -> bool:
        """True once the broker closes the connection (reading and discarding until then);
        False if it is still open after WAIT_S."""
        try:
            while self.read() is not None:
                pass
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
