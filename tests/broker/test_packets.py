"""broker.packets on bytes alone: what is malformed, and that nothing crashes the check."""

from __future__ import annotations

import asyncio
import contextlib
import struct

import pytest
from amqtt.errors import NoDataError
from amqtt.mqtt import packet_class
from amqtt.mqtt.packet import MQTTFixedHeader
from hypothesis import given, settings
from hypothesis import strategies as st

from broker import packets
from broker.packets import BytesReader, malformed
from tests.broker import raw


def _split(whole: bytes) -> tuple[int, int, bytes]:
    """(type, flags, body) of one packet built by tests.broker.raw."""
    first, rest = whole[0], whole[1:]
    i = 0
    while rest[i] & 0x80:
        i += 1
    return first >> 4, first & 0x0F, rest[i + 1 :]


@pytest.mark.parametrize(
    "whole",
    [
        raw.publish("srs/v1/people/p1/position", b"x", qos=1),
        raw.publish("srs/v1/people/p1/position", b"", qos=0),
        raw.subscribe(1, [("srs/v1/people/+/position", 1), ("srs/v1/#", 0)]),
        raw.unsubscribe(2, ["srs/v1/people/+/position"]),
        raw.puback(7),
        raw.PINGREQ,
        b"\xe0\x00",  # DISCONNECT
    ],
)
def test_well_formed_packets_pass(whole: bytes) -> None:
    assert malformed(*_split(whole)) is None


@pytest.mark.parametrize(
    ("whole", "says"),
    [
        (raw.publish("a/+/b", b"x"), "MQTT-3.3.2-2"),
        (raw.publish("a/#", b"x"), "MQTT-3.3.2-2"),
        (raw.publish(b"a/\xff", b"x"), "MQTT-1.5.3-1"),
        (raw.publish("a/\x00", b"x"), "MQTT-1.5.3-2"),
        (raw.publish("", b"x", qos=0), "MQTT-4.7.3-1"),
        (raw.publish("a/b", b"", qos=3), "MQTT-3.3.1-4"),
        (raw.subscribe(1, [("a/b", 3)]), "MQTT-3-8.3-4"),
        (raw.subscribe(1, []), "MQTT-3.8.3-3"),
        (raw.subscribe(1, [("a/#/b", 1)]), "MQTT-4.7.1-2"),
        (raw.subscribe(1, [("a/b+", 1)]), "MQTT-4.7.1-3"),
        (raw.unsubscribe(1, []), "MQTT-3.10.3-2"),
        (raw.packet(0x80, struct.pack("!H", 1) + raw.utf8("a") + b"\x01"), "MQTT-2.2.2-2"),
        (raw.packet(0x20, b"\x00\x00"), "MQTT-3.1.0-2"),  # a CONNACK from a client
        (raw.packet(0x10, b""), "MQTT-3.1.0-2"),  # a second CONNECT
    ],
)
def test_malformed_packets_are_named_by_the_statement_they_break(whole: bytes, says: str) -> None:
    reason = malformed(*_split(whole))
    assert reason is not None and says in reason


def test_a_string_longer_than_its_packet_is_malformed() -> None:
    body = struct.pack("!H", 50) + b"short"
    assert "longer than the packet" in (malformed(packets.PUBLISH, 2, body) or "")


def test_the_bytes_reader_never_reads_past_the_packet() -> None:
    reader = BytesReader(b"abc")
    assert asyncio.run(reader.read(2)) == b"ab"
    with pytest.raises(NoDataError):
        asyncio.run(reader.read(2))


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 15), st.integers(0, 15), st.binary(max_size=200))
def test_any_bytes_are_judged_without_an_exception(kind: int, flags: int, body: bytes) -> None:
    assert malformed(kind, flags, body) is None or isinstance(malformed(kind, flags, body), str)


async def _decode(kind: int, flags: int, body: bytes) -> object:
    header = MQTTFixedHeader(kind, flags, len(body))
    return await packet_class(header).from_stream(BytesReader(body), fixed_header=header)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([packets.PUBLISH, packets.SUBSCRIBE, packets.UNSUBSCRIBE, packets.PUBACK]),
    st.integers(0, 15),
    st.binary(max_size=120),
)
def test_what_passes_the_check_decodes_within_its_own_bytes(
    kind: int, flags: int, body: bytes
) -> None:
    """amqtt's decoders read only from the packet's own body: a packet the check lets
    through either decodes or fails inside it, never by reading the next packet."""
    if malformed(kind, flags, body) is not None:
        return
    # A short body fails with NoDataError here; the reader loop then closes the connection.
    with contextlib.suppress(NoDataError):
        asyncio.run(_decode(kind, flags, body))


@pytest.mark.parametrize(("level", "refused"), [(5, 5), (3, 3), (6, 6), (4, None)])
def test_a_connect_at_another_protocol_level_is_named(level: int, refused: int | None) -> None:
    whole = raw.connect_at_level(level, "cam1", "cam1", "pw")
    assert packets.unsupported_level(_split(whole)[2]) == refused
    assert packets.unsupported_level(_split(raw.connect("cam1", "cam1", "pw"))[2]) is None


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x00\x04MQTT", b"\x00\x04MQTX\x05", b"\xff"])
def test_what_is_not_recognisably_mqtt_is_left_to_the_connect_decoder(body: bytes) -> None:
    assert packets.unsupported_level(body) is None


@settings(deadline=None)
@given(st.binary(max_size=64))
def test_any_connect_body_is_judged_without_an_exception(body: bytes) -> None:
    level = packets.unsupported_level(body)
    assert level is None or (0 <= level <= 255 and level != packets.SUPPORTED_LEVEL)
