"""Retained messages reach every new subscriber at once, loop after loop (the GUI's way).

The GUI saw the retained site plan arrive only after re-subscribing: amqtt registered
the PUBACK waiter of a QoS 1 PUBLISH after sending it, so whenever the send yielded
(full socket buffer, TLS, a busy host) the PUBACK was lost and each filter's retained
messages waited 5 s. ``slow_socket`` makes every send yield, deterministically.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from pathlib import Path

import pytest
from amqtt.adapters import StreamWriterAdapter
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire import topics
from tests.broker.probe import WAIT_S, Probe
from tests.brokers import BrokerHandle, fast_user_store
from tests.waiting import wait_until

# What gui/mqtt_worker.py subscribes to, in one SUBSCRIBE packet.
FILTERS = [
    topics.key(topics.CORE_SENDER),
    topics.SITE,
    topics.ALL_CAMERA_STATUS,
    topics.ALL_POSITIONS,
    topics.SIGHTINGS,
    topics.ZONE_EVENTS,
    topics.ALERTS,
    topics.CORE_STATUS,
    topics.response("alice"),
]
# The stall this guards against is 5 s per filter; a healthy delivery takes milliseconds.
PROMPT_S = 4.0


def _publish_retained(broker: BrokerHandle) -> dict[str, bytes]:
    """Sizes like a real site: a plan of some KiB, dozens of positions, a few cameras."""
    out = {
        topics.key(topics.CORE_SENDER): b"k" * 200,
        topics.site(): b"s" * 24_000,
        topics.core_status(): b"c" * 300,
    }
    out.update({topics.position(f"p{i}"): b"p" * 700 for i in range(40)})
    core = Probe(broker.client_config("core", "core"), "core")
    assert core.connect()
    for topic, data in out.items():
        core.publish(topic, data, retain=True)
    core.close()
    for i in range(3):  # a camera's status is the camera's to publish
        cam = Probe(broker.client_config(f"cam{i}", "camera"), f"cam{i}")
        assert cam.connect()
        out[topics.camera_status(f"cam{i}")] = b"t" * 400
        cam.publish(topics.camera_status(f"cam{i}"), b"t" * 400, retain=True)
        cam.close()
    return out


def _collect(probe: Probe, want: set[str], within: float) -> set[str]:
    got: set[str] = set()
    deadline = time.monotonic() + within
    while want - got and time.monotonic() < deadline:
        try:
            msg = probe.messages.get(timeout=0.1)
        except queue.Empty:
            continue
        if msg.retain:
            got.add(msg.topic)
    return got


@pytest.fixture
def slow_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamWriterAdapter.drain

    async def drain(self: StreamWriterAdapter) -> None:
        await original(self)
        await asyncio.sleep(0.002)  # as when the socket buffer is full: the send yields

    monkeypatch.setattr(StreamWriterAdapter, "drain", drain)


@pytest.mark.parametrize(
    "loops,one_packet,same_id,abrupt,slow",
    [
        (50, True, False, False, False),  # a fresh dashboard each time, as the GUI subscribes
        (50, False, True, True, False),  # one filter per packet; reconnects after a cut link
        (10, True, False, False, True),  # every send yields (the GUI's lost site plan)
    ],
)
def test_every_subscriber_gets_every_retained_message_promptly(
    srs_broker: BrokerHandle,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    loops: int,
    one_packet: bool,
    same_id: bool,
    abrupt: bool,
    slow: bool,
) -> None:
    caplog.set_level(logging.WARNING)
    retained = _publish_retained(srs_broker)
    if slow:
        request.getfixturevalue("slow_socket")
    mqtt = srs_broker.client_config("alice", "operator")
    slowest = 0.0
    for i in range(loops):
        probe = Probe(mqtt, "alice:gui" if same_id else f"alice:gui-{i}")
        assert probe.connect()
        started = time.monotonic()
        if one_packet:
            probe.client.subscribe([(f, 1) for f in FILTERS])
        else:
            for f in FILTERS:
                probe.client.subscribe(f, 1)
        got = _collect(probe, set(retained), PROMPT_S)
        slowest = max(slowest, time.monotonic() - started)
        missing = sorted(set(retained) - got)
        if missing:  # late is not lost: tell which it was
            missing = sorted(set(missing) - _collect(probe, set(missing), WAIT_S))
        if abrupt:  # the socket just closes, as when a laptop sleeps or a cable is cut
            probe.client.loop_stop()
            sock = probe.client.socket()
            if sock is not None:
                sock.close()
        else:
            probe.close()
        assert not missing, f"loop {i}: never received {missing[:5]}"
        assert got == set(retained), (
            f"loop {i}: {sorted(set(retained) - got)[:5]} arrived only after {PROMPT_S:.0f} s"
        )
    print(
        f"slowest full retained set of {len(retained)}: {slowest * 1000:.0f} ms (noisy, shared CPU)"
    )
    lost_acks = [r.getMessage() for r in caplog.records if "PUBACK" in r.getMessage()]
    assert not lost_acks, lost_acks[:3]


def test_a_clean_session_leaves_nothing_behind(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(bind="127.0.0.1", port=0))
    password = fast_user_store(default_path(cfg)).add("alice", "operator")
    with EmbeddedBroker(cfg) as server:
        mqtt = MqttConfig(
            host="127.0.0.1", port=server.port, username="alice", password=SecretStr(password)
        )
        for i in range(3):
            probe = Probe(mqtt, f"alice:gone-{i}")
            assert probe.connect() and probe.subscribe(topics.ALL_POSITIONS)
            probe.close()
        broker = server.broker
        wait_until(
            lambda: (
                not any(
                    (s.client_id or "").startswith("alice:gone")
                    for subs in broker._subscriptions.values()
                    for s, _ in subs
                )
            ),
            timeout=WAIT_S,
            message="closed clean sessions kept their subscriptions",
        )
        assert not [c for c in broker._sessions if c.startswith("alice:gone")]
