"""broker.delivery on a running broker: a session's queue is bounded, counted, and sent
in order when the session comes back; a subscriber that does not acknowledge holds its
window, not a task and a timeout per message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from srs.wire import topics
from tests import brokers
from tests.broker import raw
from tests.broker.raw import RawClient
from tests.brokers import BrokerHandle
from tests.waiting import wait_until


@pytest.fixture
def small_queue_broker(tmp_path: Path) -> Iterator[BrokerHandle]:
    with brokers.embedded_broker(
        tmp_path, session_max_messages=10, session_max_bytes=64 * 1024, session_inflight=3
    ) as handle:
        yield handle


def _client(broker: BrokerHandle, user: str, *, clean: bool = True) -> RawClient:
    cfg = broker.client_config(user, "core")
    assert cfg.password is not None
    client = RawClient(broker.host, broker.port)
    client.send(raw.connect(user, user, cfg.password.get_secret_value(), clean=clean))
    assert client.read_kind(raw.CONNACK).body[1] == 0
    return client


def _stats(broker: BrokerHandle) -> dict[str, int]:
    assert broker.stats is not None
    return broker.stats()


def test_an_offline_session_keeps_the_newest_messages_within_its_bound(
    small_queue_broker: BrokerHandle,
) -> None:
    broker = small_queue_broker
    core = _client(broker, "core", clean=False)
    core.send(raw.subscribe(1, [(topics.ALL_POSITIONS, 1)]))
    core.read_kind(raw.SUBACK)
    writer = _client(broker, "writer")
    core.send(raw.DISCONNECT)
    core.close()
    wait_until(lambda: _stats(broker)["clients_connected"] == 1, raw.WAIT_S)  # core is away
    for n in range(25):
        writer.send(raw.publish(topics.position(f"p{n}"), b"%d" % n, packet_id=n + 1))
        assert writer.read_kind(raw.PUBACK).packet_id == n + 1
    wait_until(lambda: _stats(broker)["queue_dropped"] == 15, raw.WAIT_S)
    assert _stats(broker)["queued"] == 10
    back = _client(broker, "core", clean=False)
    got = []
    for _ in range(10):
        publish = back.read_kind(raw.PUBLISH)
        got.append(int(publish.payload))
        back.send(raw.puback(publish.packet_id))
    assert got == list(range(15, 25))  # the oldest 15 dropped, the rest in order
    back.send(raw.PINGREQ)
    assert back.read_kind(raw.PINGRESP)
    wait_until(
        lambda: _stats(broker)["queued"] == 0 and _stats(broker)["inflight"] == 0, raw.WAIT_S
    )


def test_a_subscriber_that_does_not_acknowledge_gets_its_window_then_waits(
    small_queue_broker: BrokerHandle,
) -> None:
    broker = small_queue_broker
    core = _client(broker, "core")
    core.send(raw.subscribe(1, [(topics.ALL_POSITIONS, 1)]))
    core.read_kind(raw.SUBACK)
    writer = _client(broker, "writer")
    for n in range(6):
        writer.send(raw.publish(topics.position("p1"), b"%d" % n, packet_id=n + 1))
        writer.read_kind(raw.PUBACK)
    first = [core.read_kind(raw.PUBLISH) for _ in range(3)]  # the window (3)
    wait_until(
        lambda: _stats(broker)["inflight"] == 3 and _stats(broker)["queued"] == 3, raw.WAIT_S
    )
    core.send(raw.puback(first[0].packet_id))
    nxt = core.read_kind(raw.PUBLISH)
    assert [int(p.payload) for p in [*first, nxt]] == [0, 1, 2, 3]
