"""core/erase.py: erased people's retained positions are cleared at once when the
broker is reachable (and the caller learns when it was not)."""

from __future__ import annotations

import socket
from pathlib import Path

from core.erase import clear_positions_now
from srs.config import MqttConfig
from srs.wire import SigningKey, topics
from srs.wire.payloads import PersonPosition
from tests.brokers import BrokerHandle
from tests.core.ingest_helpers import core_config
from tests.core.test_cli import _retain
from tests.core.test_service import Listener


def test_the_listed_positions_are_cleared_and_the_rest_stay(
    tmp_path: Path, srs_broker: BrokerHandle
) -> None:
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    core_key = SigningKey.generate("core")
    for key, label in (("p1", "Ada"), ("u2", "Unknown 2"), ("p3", "Bob")):
        _retain(cfg, core_key, key, label)
    assert clear_positions_now(cfg, ["p1", "u2"])
    watch = Listener(
        srs_broker.client_config("gui1", "operator"),
        "gui1",
        [topics.ALL_POSITIONS],
        core_key.public_key_b64,
    )
    try:
        bob = watch.next(PersonPosition, topic_filter=topics.ALL_POSITIONS)
        left = [m for m in list(watch.inbox.queue) if m[1]]
    finally:
        watch.close()
    assert (bob.person_key, left) == ("p3", [])


def test_an_unreachable_broker_leaves_it_to_the_service(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = core_config(tmp_path, MqttConfig(port=port))
    assert clear_positions_now(cfg, ["p1"], timeout_s=0.5) is False
