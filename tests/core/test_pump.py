"""core.pump: core's one thread keeps its broker connection by itself (real SRS broker)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy

import core.store.db
from core import store
from core.pump import RECONNECT_MAX_S, Pump
from core.service import CoreService
from srs.backoff import Backoff
from srs.config import MqttConfig
from srs.wire import topics
from srs.wire.payloads import CoreStatus
from tests.brokers import BrokerHandle, Relay, free_port
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, core_config
from tests.core.test_service import Listener
from tests.waiting import wait_until

CAM = camera_key("cam1")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Unreachable:
    """The slice of a paho client the pump uses while no broker answers."""

    def __init__(self, clock: _Clock, answer_from: float = float("inf")) -> None:
        self.clock, self.answer_from = clock, answer_from
        self.attempts: list[float] = []
        self.sock: object | None = None

    def socket(self) -> object | None:
        return self.sock

    def reconnect(self) -> None:
        self.attempts.append(self.clock.now)
        if self.clock.now < self.answer_from:
            raise ConnectionRefusedError(111, "Connection refused")
        self.sock = object()


def test_reconnect_attempts_back_off_by_the_schedule_given() -> None:
    clock = _Clock()
    client = _Unreachable(clock)
    failures: list[float] = []
    pump = Pump(
        client,  # type: ignore[arg-type]
        lambda: failures.append(clock.now),
        backoff=Backoff(first_s=1.0, max_s=30.0, jitter=0.0),
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    while clock.now < 100:
        pump.step(0.2, 10)  # the worker's idle step: never blocks longer than asked
    assert client.attempts == pytest.approx([0, 1, 3, 7, 15, 31, 61, 91])
    assert failures == client.attempts  # each failure is reported (core logs it)


def test_by_default_a_lost_broker_is_retried_every_second() -> None:
    clock = _Clock()
    client = _Unreachable(clock)
    pump = Pump(client, lambda: None, clock=lambda: clock.now, sleep=clock.sleep)  # type: ignore[arg-type]
    while clock.now < 60:
        pump.step(0.2, 10)
    gaps = [b - a for a, b in zip(client.attempts, client.attempts[1:], strict=False)]
    assert max(gaps) <= RECONNECT_MAX_S * 1.2 + 0.2  # the cap, its jitter and one idle step


class _Broken(_Unreachable):
    """Connected, but paho raises where it should have returned an error code."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__(clock)
        self.sock = object()
        self.disconnects = 0

    def want_write(self) -> bool:
        return False

    def loop_misc(self) -> int:
        raise RuntimeError("paho broke")

    def disconnect(self) -> None:
        self.disconnects += 1


def test_an_unexpected_paho_error_does_not_end_the_worker(monkeypatch, caplog) -> None:
    clock = _Clock()
    client = _Broken(clock)
    monkeypatch.setattr("core.pump._readable", lambda sock, timeout, or_writable: False)
    pump = Pump(
        client,  # type: ignore[arg-type]
        lambda: None,
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    with caplog.at_level(logging.ERROR, logger="core.pump"):
        pump.step(0.2, 10)
        pump.step(0.2, 10)
    assert client.disconnects == 2 and clock.now == pytest.approx(0.4)  # no hot loop
    assert "the broker connection failed unexpectedly" in caplog.text


def test_a_broker_that_comes_back_is_reached_at_the_next_attempt() -> None:
    clock = _Clock()
    client = _Unreachable(clock, answer_from=5.0)
    pump = Pump(
        client,  # type: ignore[arg-type]
        lambda: None,
        backoff=Backoff(first_s=1.0, max_s=30.0, jitter=0.0),
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    while client.sock is None:
        pump.step(0.2, 10)
    assert client.attempts == pytest.approx([0, 1, 3, 7])


def _through(relay: Relay, mqtt: MqttConfig) -> MqttConfig:
    return mqtt.model_copy(update={"port": relay.port})


def test_core_waits_for_an_unreachable_broker_then_connects(
    tmp_path, srs_broker: BrokerHandle, caplog
) -> None:
    port = free_port()  # nothing listens there yet: connections are refused
    cfg = core_config(
        tmp_path, srs_broker.client_config("core", "core").model_copy(update={"port": port})
    )
    with caplog.at_level(logging.WARNING, logger="core.service"), CoreService(cfg) as svc:
        wait_until(lambda: "cannot reach the broker" in caplog.text, timeout=5)
        assert not svc.watcher.connected.is_set()
        relay = Relay((srs_broker.host, srs_broker.port), port)  # the broker comes up
        try:
            # Attempts back off 1 s, 2 s, 4 s...: the next one comes within a few seconds.
            assert svc.wait_connected(15), svc.watcher.last_error
        finally:
            relay.close()


def test_core_reconnects_after_a_cut_link_and_acks_again(
    tmp_path, srs_broker: BrokerHandle, caplog
) -> None:
    relay = Relay((srs_broker.host, srs_broker.port))
    cfg = core_config(tmp_path, _through(relay, srs_broker.client_config("core", "core")))
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM.public_key_b64)
    db.close()
    try:
        with CoreService(cfg) as svc:
            assert svc.wait_connected(10)
            cam = FakeCamera(
                srs_broker.client_config("cam1", "camera"), CAM, "cam1", svc.key.public_key_b64
            )
            try:
                cam.send(batch("cam1", 1, []))
                assert cam.wait_acked({1})
                with caplog.at_level(logging.WARNING, logger="core.pump"):
                    relay.cut()
                    wait_until(lambda: not svc.watcher.connected.is_set(), timeout=10)
                    wait_until(
                        lambda: "lost the connection to the broker" in caplog.text, timeout=15
                    )
                relay.restore()
                assert svc.wait_connected(15)
                # The session and its subscriptions are back: what the camera sends now,
                # and what it sent while core was away, is stored and acked.
                cam.send(batch("cam1", 2, []))
                assert cam.wait_acked({2})
            finally:
                cam.close()
    finally:
        relay.close()


def _retained_status(mqtt: MqttConfig, core_key_b64: str) -> CoreStatus:
    """A fresh subscriber's view of core's retained status, verified with core's key."""
    # Client ids start with the user name (the broker's rule).
    listener = Listener(
        mqtt, f"{mqtt.username}:{uuid.uuid4().hex[:8]}", [topics.core_status()], core_key_b64
    )
    try:
        return listener.next(CoreStatus, topic_filter=topics.core_status())
    finally:
        listener.close()


def test_stopping_core_leaves_a_signed_retained_offline_status(
    tmp_path, srs_broker: BrokerHandle
) -> None:
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        key = svc.key.public_key_b64
        watcher = srs_broker.client_config("status-reader", "operator")
        assert _retained_status(watcher, key).state == "online"
        stopping = time.time()
    # stop() ran on the worker's own connection: the offline status went out before
    # the DISCONNECT. Not the will (signed at start, and dropped on a clean DISCONNECT).
    status = _retained_status(watcher, key)
    assert status.state == "offline" and status.sent_at >= stopping - 0.01


def test_core_driven_by_hand_falls_back_to_3_1_1_on_amqtt(tmp_path, srs_broker, caplog) -> None:
    mqtt = srs_broker.client_config("core", "core").model_copy(update={"protocol": "auto"})
    with (
        caplog.at_level("WARNING", logger="core.pump"),
        CoreService(core_config(tmp_path, mqtt)) as svc,
    ):
        assert svc.wait_connected(20), svc.watcher.last_error
        assert svc.session.protocol == "3.1.1"
        assert svc.session.wait_subscribed(10)
    # The broker's CONNACK 1 is a fall-back, not a lost connection to wait out.
    assert "lost the connection" not in caplog.text


def test_core_driven_by_hand_speaks_mqtt_5_on_mosquitto(tmp_path, mosquitto_broker) -> None:
    mqtt = mosquitto_broker.client_config("core", "core")
    with CoreService(core_config(tmp_path, mqtt)) as svc:
        assert svc.wait_connected(15), svc.watcher.last_error
        assert svc.session.protocol == "5"
        assert svc.session.wait_subscribed(10)


@contextlib.contextmanager
def _database_locked(cfg) -> Iterator[None]:
    """Another process's writer holds the database: SQLite's write lock, or PostgreSQL's
    exclusive lock on the tables a batch writes (SRS_TEST_DATABASE)."""
    url = core.store.db.database_url(cfg)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(str(cfg.data_dir / "srs.db"), isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as c:
            c.execute(
                sqlalchemy.text("LOCK TABLE sightings, processed_messages IN ACCESS EXCLUSIVE MODE")
            )
            yield
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("queue_size", "sends", "every_s"),
    [(20_000, 5, 1.6), (10, 16, 0.5)],
    ids=["room-to-spare", "inbox-full"],  # full: it reads only to hear its PINGRESP
)
def test_core_stays_connected_while_its_database_is_locked(
    tmp_path, mosquitto_broker: BrokerHandle, caplog, queue_size: int, sends: int, every_s: float
) -> None:
    # Mosquitto drops a client silent for 1.5 keepalives (3 s here); the lock lasts 8 s
    # and the store waits for it (lock timeout 60 s), as the 75 s table lock did.
    mqtt = mosquitto_broker.client_config("core", "core").model_copy(update={"keepalive_s": 2})
    cfg = core_config(
        tmp_path,
        mqtt,
        database_lock_timeout_s=60.0,
        status_interval_s=0.5,
        queue_size=queue_size,
    )
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM.public_key_b64)
    db.close()
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        listener = Listener(
            mosquitto_broker.client_config("watcher", "operator"),
            f"watcher:{uuid.uuid4().hex[:8]}",
            [topics.core_status()],
            svc.key.public_key_b64,
        )
        cam = FakeCamera(
            mosquitto_broker.client_config("cam1", "camera"), CAM, "cam1", svc.key.public_key_b64
        )
        # A dropped core reconnects within moments: count the connections instead.
        connections: list[tuple[Any, ...]] = []
        on_connect = svc.watcher.on_connect

        def counted(*args: Any) -> None:
            connections.append(args)
            on_connect(*args)

        svc.watcher.on_connect = counted  # type: ignore[method-assign, assignment]
        try:
            cam.send(batch("cam1", 1, []))
            assert cam.wait_acked({1})
            sent = set(range(2, 2 + sends))
            with _database_locked(cfg):
                for seq in sorted(sent):
                    cam.send(batch("cam1", seq, []))
                    time.sleep(every_s)  # the stall itself: messages arrive all along it
                assert not cam.acked & sent  # nothing could be stored
            # Once the lock goes, everything is stored and acked (what core could not
            # hold, beyond queue_size, its camera sends again).
            assert cam.wait_acked(sent, timeout=30.0, resend_s=5.0)
            states = []
            while not listener.inbox.empty():
                topic, data, _ = listener.inbox.get()
                if data:
                    states.append(listener.verifier.verify(topic, data, CoreStatus).payload.state)
            assert "offline" not in states  # no will went out
            assert not connections, "core lost the broker while the database was locked"
            assert "lost the connection" not in caplog.text
            assert svc.keeper.steps > 0  # the keepalive thread kept it
        finally:
            cam.close()
            listener.close()
