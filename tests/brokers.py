"""Real brokers for tests: the hardened embedded SRS broker, and Mosquitto from the export
(NATS, the clustered engine: tests/nats_brokers.py).

Fixtures (conftest.py) yield a :class:`BrokerHandle`; tests get credentials for a
role with ``handle.client_config(user, role)``, which creates the user on first use.
Connect with client id == user name (or ``user:suffix``): the broker refuses others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.users import UserStore, default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.mqtt import make_client
from tests.waiting import wait_until

# Cheap hashes keep tests fast; the parameters live in each hash, so the broker
# verifies them as it would production-cost ones.
FAST_ARGON2 = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
FAST_PBKDF2_ITERATIONS = 1_000
FAST_BCRYPT_ROUNDS = 4  # bcrypt's minimum
START_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_user_store(path: Path) -> UserStore:
    return UserStore(
        path,
        hasher=FAST_ARGON2,
        pbkdf2_iterations=FAST_PBKDF2_ITERATIONS,
        bcrypt_rounds=FAST_BCRYPT_ROUNDS,
    )


@dataclass
class BrokerHandle:
    host: str
    port: int
    store: UserStore | None = None
    kind: str = "amqtt"
    passwords: dict[str, str] = field(default_factory=dict)
    on_users_changed: Callable[[str, str], None] | None = field(default=None, repr=False)
    # The embedded broker's refusal counters (EmbeddedBroker.stats); None for the others.
    stats: Callable[[], dict[str, int]] | None = field(default=None, repr=False)

    def client_config(self, user: str, role: str = "core") -> MqttConfig:
        """Credentials for ``user`` with ``role`` (created on first use)."""
        if user not in self.passwords:
            if self.store is None:
                self.passwords[user] = f"pw-{user}"
            else:
                existing = self.store.role_of(user)
                if existing is not None and existing != role:
                    raise ValueError(f"user {user!r} already exists with role {existing}")
                password = secrets.token_urlsafe(12)
                if existing is None:
                    self.store.add(user, role, password)
                else:
                    self.store.set_password(user, password)
                self.passwords[user] = password
                if self.on_users_changed is not None:
                    self.on_users_changed(user, password)
        return MqttConfig(
            host=self.host,
            port=self.port,
            username=user,
            password=SecretStr(self.passwords[user]),
            # amqtt speaks 3.1.1 only (it refuses MQTT 5 at once, broker.first_packet):
            # tests that are not about the protocol skip even that round trip
            # (tests/srs/mqtt/test_session.py is about it).
            protocol="3.1.1" if self.kind == "amqtt" else "auto",
        )


@contextmanager
def embedded_broker(
    data_dir: Path,
    max_payload_bytes: int = 64 * 1024,
    **settings: Any,
) -> Iterator[BrokerHandle]:
    """The hardened SRS broker on a free loopback port, users in ``data_dir``;
    ``settings``: more ``[broker]`` settings (e.g. ``camera_rate``)."""
    from broker.server import EmbeddedBroker

    cfg = SrsConfig(
        data_dir=data_dir,
        broker=BrokerConfig(
            bind="127.0.0.1", port=0, max_payload_bytes=max_payload_bytes, **settings
        ),
    )
    store = fast_user_store(default_path(cfg))
    with EmbeddedBroker(cfg) as broker:
        yield BrokerHandle("127.0.0.1", broker.port, store=store, kind="amqtt", stats=broker.stats)


@contextmanager
def retained_only_to_exact_filters() -> Iterator[None]:
    """RabbitMQ 3.10's rule, on the embedded broker: a retained message reaches a new
    subscription only when its filter has no wildcard (RabbitMQ is not installed here;
    SRS must work under that rule, docs/broker.md)."""
    from broker.amqtt_broker import SrsBroker

    name = "_publish_retained_messages_for_subscription"
    original = getattr(SrsBroker, name)

    async def exact_only(self: Any, subscription: tuple[str, int], session: Any) -> None:
        if "+" in subscription[0] or "#" in subscription[0]:
            return
        await original(self, subscription, session)

    setattr(SrsBroker, name, exact_only)
    try:
        yield
    finally:
        setattr(SrsBroker, name, original)


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


def _can_connect(mqtt: MqttConfig, client_id: str) -> bool:
    """One blocking CONNECT; True when the broker accepts these credentials."""
    client = make_client(mqtt, client_id)
    accepted: list[bool] = []
    client.on_connect = lambda c, u, f, rc, p=None: accepted.append(not rc.is_failure)
    try:
        client.connect(mqtt.host, mqtt.port, keepalive=5)
        deadline = time.monotonic() + 5
        while not accepted and time.monotonic() < deadline:
            client.loop(0.05)
        client.disconnect()
        return bool(accepted and accepted[0])
    except OSError:
        return False


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> bool:
    """True once the broker (mosquitto, nats-server) listens on ``port``; False if it
    exited (port taken)."""

    def listening_or_gone() -> bool:
        if proc.poll() is not None:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    wait_until(
        listening_or_gone,
        timeout=START_TIMEOUT_S,
        message=lambda: f"the broker did not open port {port}: {log_path.read_text()[-2000:]}",
    )
    return proc.poll() is None


@contextmanager
def mosquitto_broker(
    workdir: Path, mosquitto: str, max_payload_bytes: int = 64 * 1024
) -> Iterator[BrokerHandle]:
    """A real ``mosquitto -c`` running the exported SRS config on a free port."""
    from broker.export import export_mosquitto

    store = fast_user_store(default_path(SrsConfig(data_dir=workdir / "var")))
    out = workdir / "mosquitto"
    log_path = workdir / "mosquitto.log"
    lock = threading.Lock()
    cfg = SrsConfig(data_dir=workdir / "var")

    def export() -> Path:
        conf = export_mosquitto(cfg, store, out)[-1]
        if os.geteuid() == 0:  # as root, mosquitto would switch to user "mosquitto"
            with conf.open("a") as fh:
                fh.write("user root\n")
        return conf

    for _attempt in range(3):  # free_port() can race with another process
        port = free_port()
        cfg = SrsConfig(
            data_dir=workdir / "var",
            broker=BrokerConfig(bind="127.0.0.1", port=port, max_payload_bytes=max_payload_bytes),
        )
        conf = export()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [mosquitto, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
            )
        if _wait_listening(proc, port, log_path):
            break
    else:
        raise RuntimeError(f"mosquitto would not start: {log_path.read_text()[-2000:]}")
    handle = BrokerHandle("127.0.0.1", port, store=store, kind="mosquitto")

    def reload(user: str, password: str) -> None:
        # New users reach Mosquitto by re-export + SIGHUP; wait until it accepts them.
        with lock:
            export()
            proc.send_signal(signal.SIGHUP)
            probe = MqttConfig(
                host="127.0.0.1", port=port, username=user, password=SecretStr(password)
            )
            wait_until(
                lambda: _can_connect(probe, user),
                timeout=START_TIMEOUT_S,
                message=lambda: (
                    f"mosquitto did not load user {user!r}: {log_path.read_text()[-2000:]}"
                ),
            )

    handle.on_users_changed = reload
    try:
        yield handle
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Relay:
    """Forwards 127.0.0.1:<port> to the broker; ``cut()`` drops every connection and
    refuses new ones until ``restore()``."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.up = threading.Event()
        self.up.set()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the broker is down (restarting): refuse this client only
                client.close()
                continue
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.server.close()
