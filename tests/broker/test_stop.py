"""Stopping the embedded broker with busy clients connected is prompt and clean.

It used to take the full 15 s shutdown timeout now and then: amqtt cancelled a busy
client's reader once, Python 3.11's wait_for swallowed the cancel, and the broker
waited for the reader until the client left.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire import topics
from tests.broker.probe import WAIT_S, Probe
from tests.brokers import fast_user_store


def test_stop_with_busy_and_slow_clients_is_clean(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(bind="127.0.0.1", port=0))
    users = fast_user_store(default_path(cfg))
    passwords = {"core": users.add("core", "core"), "alice": users.add("alice", "operator")}
    server = EmbeddedBroker(cfg)
    server.start()

    def client(user: str, client_id: str, clean_session: bool = True) -> Probe:
        mqtt = MqttConfig(
            host="127.0.0.1", port=server.port, username=user, password=SecretStr(passwords[user])
        )
        probe = Probe(mqtt, client_id, clean_session=clean_session)
        assert probe.connect()
        return probe

    subscribers = [client("alice", f"alice:{i}") for i in range(3)]
    for probe in subscribers:
        assert probe.subscribe(topics.ALL_POSITIONS)
    subscribers[0].client.on_message = lambda *a: time.sleep(0.05)  # a busy dashboard
    core = client("core", "core", clean_session=False)
    sent = threading.Event()
    stop = threading.Event()

    def flood() -> None:
        n = 0
        while not stop.is_set():
            core.client.publish(topics.position(f"p{n % 50}"), b"x" * 2000, qos=1, retain=True)
            n += 1
            if n == 500:
                sent.set()
            time.sleep(0.001)

    publisher = threading.Thread(target=flood)
    publisher.start()
    try:
        assert sent.wait(WAIT_S)
        started = time.monotonic()
        server.stop()
        took = time.monotonic() - started
    finally:
        stop.set()
        publisher.join()
        for probe in [*subscribers, core]:
            probe.client.loop_stop()
    print(f"stop with 4 busy clients: {took:.2f} s (noisy, shared CPU)")
    assert not [r for r in caplog.records if "not clean" in r.getMessage()]
    assert took < WAIT_S  # failure bound only: the bug took the full 15 s timeout
