"""NATS's MQTT gateway for tests (the clustered engine of docs/broker.md), from
``srs broker export --format nats``: one node, or a cluster of several on loopback.

Each node is a :class:`~tests.brokers.BrokerHandle` of kind ``nats``; the nodes of a
cluster share one user store, and a user created through any of them is exported to
all and reloaded (SIGHUP) before ``client_config`` returns.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.users import UserStore, default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.mqtt import make_client
from srs.wire import topics
from tests.brokers import (
    START_TIMEOUT_S,
    BrokerHandle,
    _can_connect,
    _wait_listening,
    fast_user_store,
    free_port,
)
from tests.waiting import wait_until

NATS_RELOADED = "Reloaded server configuration"  # nats-server's log line
WARMUP_USER = "nats-warmup"
# A cluster elects its JetStream leader before the first MQTT client is served.
CLUSTER_START_S = 60.0


def nats_binary() -> str | None:
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/local/bin/nats-server") if Path(p).exists()),
        None,
    )


def _make_mqtt_streams(mqtt: MqttConfig, log_path: Path, timeout: float) -> None:
    """One QoS 1 subscription, granted: NATS has made its MQTT streams for the account."""
    client = make_client(mqtt, mqtt.username or "")
    granted = threading.Event()
    client.on_subscribe = lambda c, u, mid, codes, p=None: granted.set()
    client.connect(mqtt.host, mqtt.port, keepalive=5)
    client.loop_start()
    try:
        wait_until(
            client.is_connected,
            timeout=timeout,
            message=lambda: f"nats refused the warm-up client: {log_path.read_text()[-2000:]}",
        )
        client.subscribe(topics.SIGHTINGS, qos=1)
        wait_until(
            granted.is_set,
            timeout=timeout,
            message=lambda: f"nats did not answer a SUBSCRIBE: {log_path.read_text()[-2000:]}",
        )
    finally:
        client.disconnect()
        client.loop_stop()


class _Node:
    def __init__(self, workdir: Path, index: int, nodes: int, max_payload_bytes: int) -> None:
        self.out = workdir / f"nats-{index}"
        self.log_path = workdir / f"nats-{index}.log"
        self.index, self.nodes = index, nodes
        self.port, self.nats_port, self.route_port = free_port(), free_port(), free_port()
        self.cfg = SrsConfig(
            data_dir=workdir / "var",
            broker=BrokerConfig(
                bind="127.0.0.1", port=self.port, max_payload_bytes=max_payload_bytes
            ),
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def export(self, store: UserStore, routes: list[int]) -> Path:
        """The export as an administrator uses it, plus, in a cluster, what they add
        to each node by hand (docs/broker.md): a unique name, the routes, replicas."""
        from broker.export_nats import export_nats

        paths, skipped = export_nats(self.cfg, store, self.out, nats_port=self.nats_port)
        assert not skipped, f"users without a bcrypt hash: {skipped}"
        conf = paths[-1]
        if self.nodes > 1:
            text = conf.read_text().replace(
                'server_name: "srs"', f'server_name: "srs-{self.index}"'
            )
            text = text.replace("mqtt {\n", f"mqtt {{\n  stream_replicas: {min(3, self.nodes)}\n")
            others = ", ".join(
                f'"nats-route://127.0.0.1:{p}"' for p in routes if p != self.route_port
            )
            text += (
                f'cluster {{ name: "srs", listen: "127.0.0.1:{self.route_port}", '
                f"routes: [{others}] }}\n"
            )
            conf.write_text(text)
        return conf

    def start(self, nats: str, conf: Path) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [nats, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
            )
        if not _wait_listening(self.proc, self.port, self.log_path):
            raise RuntimeError(f"nats-server would not start: {self.log_path.read_text()[-2000:]}")

    def reload(self) -> int:
        """SIGHUP; returns the count of reloads logged before it."""
        assert self.proc is not None
        done = self.log_path.read_text().count(NATS_RELOADED)
        self.proc.send_signal(signal.SIGHUP)
        return done

    def wait_reloaded(self, done: int) -> None:
        wait_until(
            lambda: self.log_path.read_text().count(NATS_RELOADED) > done,
            timeout=START_TIMEOUT_S,
            message=lambda: f"nats did not reload: {self.log_path.read_text()[-2000:]}",
        )

    def wait_accepts(self, user: str, password: str) -> None:
        probe = MqttConfig(
            host="127.0.0.1", port=self.port, username=user, password=SecretStr(password)
        )
        wait_until(
            lambda: _can_connect(probe, user),
            timeout=START_TIMEOUT_S,
            message=lambda: f"nats did not load {user!r}: {self.log_path.read_text()[-2000:]}",
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@contextmanager
def nats_cluster(
    workdir: Path, nats: str, nodes: int = 1, max_payload_bytes: int = 64 * 1024
) -> Iterator[list[BrokerHandle]]:
    """``nodes`` real ``nats-server -c`` processes on free loopback ports, clustered
    when more than one; one handle per node."""
    store = fast_user_store(default_path(SrsConfig(data_dir=workdir / "var")))
    # NATS 2.9.10 loses its MQTT state for good (every later CONNECT and QoS 1 SUBSCRIBE
    # times out after 4 s) when a reload lands while the first MQTT client's JetStream
    # streams are still being made: a client of our own makes them before any reload.
    warmup_password = store.add(WARMUP_USER, "integrator")
    members = [_Node(workdir, i, nodes, max_payload_bytes) for i in range(nodes)]
    routes = [m.route_port for m in members]
    lock = threading.Lock()
    with ExitStack() as stack:
        for member in members:
            stack.callback(member.stop)
            member.start(nats, member.export(store, routes))
        first = members[0]
        _make_mqtt_streams(
            MqttConfig(
                host="127.0.0.1",
                port=first.port,
                username=WARMUP_USER,
                password=SecretStr(warmup_password),
            ),
            first.log_path,
            CLUSTER_START_S if nodes > 1 else START_TIMEOUT_S,
        )

        def reload(user: str, password: str) -> None:
            # New users reach NATS by re-export + SIGHUP; wait until every node has them.
            with lock:
                for member in members:
                    member.export(store, routes)
                before = [(m, m.reload()) for m in members]
                for member, done in before:
                    member.wait_reloaded(done)
                for member in members:
                    member.wait_accepts(user, password)

        handles = []
        for member in members:
            handle = BrokerHandle("127.0.0.1", member.port, store=store, kind="nats")
            handle.on_users_changed = reload
            handles.append(handle)
        # One password per user for every node (client_config remembers it per handle).
        shared: dict[str, str] = {}
        for handle in handles:
            handle.passwords = shared
        yield handles


@contextmanager
def nats_broker(
    workdir: Path, nats: str, max_payload_bytes: int = 64 * 1024
) -> Iterator[BrokerHandle]:
    """One NATS node running the exported SRS config on a free port."""
    with nats_cluster(workdir, nats, 1, max_payload_bytes) as (handle,):
        yield handle
