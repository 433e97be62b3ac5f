"""broker.routing: each message routed at once, with amqtt's rules unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import struct
import time
from typing import Any

from amqtt.contexts import Action

from broker.routing import DirectRouting
from broker.users import ACL_RECHECK_S
from srs.wire import topics
from tests.broker.probe import WAIT_S, Probe
from tests.brokers import BrokerHandle


def _drain(probe: Probe, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        try:
            out.append(probe.messages.get(timeout=WAIT_S))
        except queue.Empty:
            break
    return out


def test_one_publishers_messages_arrive_in_order(srs_broker: BrokerHandle) -> None:
    core = Probe(srs_broker.client_config("core", "core"), "core")
    cam = Probe(srs_broker.client_config("cam1", "camera"), "cam1")
    try:
        assert core.connect() and cam.connect()
        assert core.subscribe(topics.ALL_DETECTIONS)
        for i in range(200):
            cam.client.publish(topics.detections("cam1"), b"%d" % i, qos=1)
        got = _drain(core, 200)
        assert [int(m.payload) for m in got] == list(range(200))
    finally:
        cam.close()
        core.close()


def test_each_delivery_is_checked_against_the_subscribers_rules(srs_broker: BrokerHandle) -> None:
    # A user removed while subscribed keeps the subscription but receives nothing more
    # once the topic plugin re-reads the users file (at most ACL_RECHECK_S later).
    core = Probe(srs_broker.client_config("core", "core"), "core")
    ha = Probe(srs_broker.client_config("ha", "integrator"), "ha")
    try:
        assert core.connect() and ha.connect() and ha.subscribe(topics.ALL_POSITIONS)
        core.publish(topics.position("p1"), b"before")
        assert [m.payload for m in _drain(ha, 1)] == [b"before"]
        assert srs_broker.store is not None
        srs_broker.store.remove("ha")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:  # until the removal is seen: nothing arrives
            core.publish(topics.position("p1"), b"after")
            try:
                ha.messages.get(timeout=ACL_RECHECK_S / 2)
            except queue.Empty:
                break
        else:
            raise AssertionError("a removed user kept receiving")
        core.publish(topics.position("p1"), b"still after")
        late = []
        with contextlib.suppress(queue.Empty):
            while True:
                late.append(ha.messages.get(timeout=ACL_RECHECK_S).payload)
        assert b"still after" not in late
    finally:
        for probe in (ha, core):
            probe.close()


class _NoPlugins:
    def get_plugin(self, name: str) -> None:
        return None


def test_without_the_topic_plugin_everything_is_refused() -> None:
    router = DirectRouting.__new__(DirectRouting)  # only the plugin manager is needed
    router.plugins_manager = _NoPlugins()
    for action in (Action.PUBLISH, Action.SUBSCRIBE, Action.RECEIVE):
        allowed = asyncio.run(router._topic_filtering(object(), "srs/v1/x", action))
        assert allowed is False


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(first_byte: int, body: bytes) -> bytes:
    assert len(body) < 128  # one byte of remaining length is enough here
    return bytes([first_byte, len(body)]) + body


TOPIC = "$SYS/srs"


def test_a_publish_to_a_dollar_topic_closes_that_connection_only(srs_broker: BrokerHandle) -> None:
    # MQTT-4.7.2-1: "$" topics are the broker's. Stock amqtt stopped serving such a
    # client but left its socket open; routed here, the connection is closed (its
    # will is sent). This client speaks MQTT by hand, as a misbehaving one would.
    cfg = srs_broker.client_config("cam1", "camera")
    assert cfg.password is not None
    core = Probe(srs_broker.client_config("core", "core"), "core")
    try:
        assert core.connect() and core.subscribe(topics.ALL_DETECTIONS)
        with socket.create_connection((cfg.host, cfg.port), timeout=WAIT_S) as raw:
            raw.sendall(
                _packet(
                    0x10,
                    _utf8("MQTT")
                    + bytes([4, 0xC2])
                    + struct.pack("!H", 30)
                    + _utf8("cam1")
                    + _utf8("cam1")
                    + _utf8(cfg.password.get_secret_value()),
                )
            )
            assert raw.recv(4) == b"\x20\x02\x00\x00"  # CONNACK: accepted
            raw.sendall(_packet(0x32, _utf8(TOPIC) + struct.pack("!H", 1) + b"wild"))
            received = b""
            while chunk := raw.recv(64):  # until the broker closes the connection
                received += chunk
        assert received in (b"", b"\x40\x02\x00\x01")  # at most its PUBACK came first
        cam = Probe(cfg, "cam1")
        try:
            assert cam.connect()
            cam.publish(topics.detections("cam1"), b"tame")
            assert [m.payload for m in _drain(core, 1)] == [b"tame"]
        finally:
            cam.close()
    finally:
        core.close()
