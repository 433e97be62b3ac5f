"""Real brokers for tests: an embedded amqtt on a free loopback port.

The ``srs_broker`` fixture (conftest.py) yields a :class:`BrokerHandle`; tests get
credentials for a role with ``handle.client_config(user, role)``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from srs.config import MqttConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BrokerHandle:
    host: str
    port: int
    passwords: dict[str, str] = field(default_factory=dict)

    def client_config(self, user: str, role: str = "core") -> MqttConfig:
        password = self.passwords.setdefault(user, f"pw-{user}")
        return MqttConfig(host=self.host, port=self.port, username=user, password=password)


@contextmanager
def plain_amqtt() -> Iterator[BrokerHandle]:
    """A stock amqtt broker (placeholder until broker/ provides the hardened one)."""
    from amqtt.broker import Broker

    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}}}
    broker_box: dict[str, Broker] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        broker = Broker(config, loop=loop)
        broker_box["b"] = broker
        loop.run_until_complete(broker.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="amqtt-test", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("amqtt did not start within 10 s")
    try:
        yield BrokerHandle("127.0.0.1", port)
    finally:
        asyncio.run_coroutine_threadsafe(broker_box["b"].shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
