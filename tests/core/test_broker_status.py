"""core.broker_status: the embedded broker's signed counts in core's own status; a
status under another key is refused and counted; no pinned key, one log line."""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

import broker.server
import core.service
from broker.status import key_path
from core.broker_status import BROKER_KEY_FILE, BrokerStatusReader
from core.messages import Incoming
from core.service import CoreService
from core.status import Counters
from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import make_client
from srs.wire import topics
from srs.wire.payloads import BrokerStatus, CoreStatus
from srs.wire.reading import verifier_for
from srs.wire.signing import SigningKey, sign
from tests import brokers
from tests.broker import raw
from tests.broker.raw import RawClient
from tests.brokers import BrokerHandle
from tests.core.ingest_helpers import core_config
from tests.waiting import wait_until

TOPIC = topics.broker_status()


def _signed(key: SigningKey, **counts: int) -> Incoming:
    status = BrokerStatus.model_validate({"sent_at": 1_700_000_000.0, **counts})
    return Incoming(TOPIC, sign(status, TOPIC, key, audience="srs", now=status.sent_at))


def _pin(keys_dir: Path, key: SigningKey) -> None:
    keys_dir.mkdir(parents=True, exist_ok=True)
    (keys_dir / BROKER_KEY_FILE).write_text(key.public_key_b64 + "\n")


class Rejections:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, reason: str, sentence: str, where: str) -> None:
        self.seen.append((reason, sentence, where))


# --- the reader, without a broker ---------------------------------------------------


def test_a_status_signed_by_the_pinned_key_is_read(tmp_path: Path) -> None:
    key = SigningKey.generate(topics.BROKER_SENDER)
    _pin(tmp_path, key)
    rejections = Rejections()
    reader = BrokerStatusReader(SecurityConfig(), tmp_path, rejections)
    got = reader.read(_signed(key, oversize_dropped=3, queue_dropped=7))
    assert got is not None and (got.oversize_dropped, got.queue_dropped) == (3, 7)
    assert rejections.seen == []


@pytest.mark.parametrize("forged", ["another key", "garbage"])
def test_a_forged_status_is_refused_and_counted(tmp_path: Path, forged: str) -> None:
    _pin(tmp_path, SigningKey.generate(topics.BROKER_SENDER))
    rejections = Rejections()
    reader = BrokerStatusReader(SecurityConfig(), tmp_path, rejections)
    if forged == "another key":
        msg = _signed(SigningKey.generate(topics.BROKER_SENDER), oversize_dropped=1)
    else:
        msg = Incoming(TOPIC, b"not.a.token")
    assert reader.read(msg) is None
    [(reason, sentence, where)] = rejections.seen
    assert where == TOPIC and reason and sentence


def test_without_a_pinned_key_status_is_ignored_with_one_line_until_the_key_comes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = SigningKey.generate(topics.BROKER_SENDER)
    rejections = Rejections()
    reader = BrokerStatusReader(SecurityConfig(), tmp_path, rejections)
    with caplog.at_level(logging.INFO, logger="core.broker_status"):
        for _ in range(3):
            assert reader.read(_signed(key, oversize_dropped=1)) is None
    assert len([r for r in caplog.records if "ignoring the broker's status" in r.message]) == 1
    assert rejections.seen == []  # not forged: unknown
    _pin(tmp_path, key)  # a broker started for the first time after core
    assert reader.read(_signed(key, oversize_dropped=2)) is not None


def test_an_emptied_retained_status_is_nothing(tmp_path: Path) -> None:
    rejections = Rejections()
    reader = BrokerStatusReader(SecurityConfig(), tmp_path, rejections)
    assert reader.read(Incoming(TOPIC, b"")) is None and rejections.seen == []


def test_core_status_carries_the_broker_counts_once_one_was_verified() -> None:
    counters = Counters()
    before = counters.status("online", 10.0, now=5.0)
    assert before.broker_status_at is None and before.broker_oversize_dropped == 0
    counters.broker(BrokerStatus(sent_at=4.0, oversize_dropped=2, queue_dropped=9, queued=5))
    after = counters.status("online", 10.0, now=5.0)
    assert (after.broker_status_at, after.broker_oversize_dropped) == (4.0, 2)
    assert after.broker_queue_dropped == 9
    assert CoreStatus.model_validate(after.model_dump()) == after  # still a valid payload


# --- over a real embedded broker ---------------------------------------------------


@pytest.fixture
def quick_broker_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker.server, "STATUS_EVERY_S", 0.2)


def _camera(broker_handle: BrokerHandle) -> RawClient:
    cfg = broker_handle.client_config("cam1", "camera")
    assert cfg.password is not None
    cam = RawClient(broker_handle.host, broker_handle.port)
    cam.send(raw.connect("cam1", "cam1", cfg.password.get_secret_value()))
    assert cam.read_kind(raw.CONNACK).body[1] == 0
    return cam


class StatusWatch:
    """Core's published status, verified with core's key."""

    def __init__(self, mqtt: MqttConfig, core_key: SigningKey) -> None:
        key = core_key.public_key
        self.verifier = verifier_for(SecurityConfig(), lambda who: key if who == "core" else None)
        self.inbox: queue.Queue[bytes] = queue.Queue()
        self.client = make_client(mqtt, f"{mqtt.username}:watch")
        self.client.on_message = lambda c, u, m: self.inbox.put(bytes(m.payload))
        self.client.connect(mqtt.host, mqtt.port)
        self.client.subscribe(topics.core_status(), qos=1)
        self.client.loop_start()

    def latest(self) -> CoreStatus | None:
        got = None
        while not self.inbox.empty():
            data = self.inbox.get()
            if data:
                got = self.verifier.verify(topics.core_status(), data, CoreStatus).payload
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def shared_dir(tmp_path: Path, quick_broker_status: None) -> Iterator[tuple[Path, BrokerHandle]]:
    """The default setup: the embedded broker and core in one data dir."""
    with brokers.embedded_broker(
        tmp_path, max_payload_bytes=1024, session_max_messages=3
    ) as handle:
        yield tmp_path, handle


def _raw(handle: BrokerHandle, user: str, role: str, *, clean: bool = True) -> RawClient:
    cfg = handle.client_config(user, role)
    assert cfg.password is not None
    client = RawClient(handle.host, handle.port)
    client.send(raw.connect(user, user, cfg.password.get_secret_value(), clean=clean))
    assert client.read_kind(raw.CONNACK).body[1] == 0
    return client


def _overflow_a_queue(handle: BrokerHandle) -> None:
    """An integrator's persistent session, away, sent more positions than it may hold."""
    away = _raw(handle, "ha", "integrator", clean=False)
    away.send(raw.subscribe(1, [(topics.ALL_POSITIONS, 1)]))
    assert away.read_kind(raw.SUBACK).body[2] == 1
    away.close()
    writer = _raw(handle, "core2", "core")
    for n in range(1, 7):
        writer.send(raw.publish(topics.position(f"p{n}"), b"p", packet_id=n))
        assert writer.read_kind(raw.PUBACK).packet_id == n
    writer.close()


def test_what_the_broker_drops_shows_in_core_status(
    shared_dir: tuple[Path, BrokerHandle],
) -> None:
    data_dir, handle = shared_dir
    assert (data_dir / "keys" / BROKER_KEY_FILE) == Path(f"{key_path(data_dir)}.pub")
    cfg = core_config(data_dir, handle.client_config("core", "core"), status_interval_s=0.5)
    watch_cfg = handle.client_config("viewer", "integrator")
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        watch = StatusWatch(watch_cfg, svc.key)
        cam = _camera(handle)
        try:
            cam.send(raw.publish(topics.detections("cam1"), b"x" * 2048, packet_id=1))
            assert cam.read_kind(raw.PUBACK).packet_id == 1  # acknowledged, dropped
            cam.send(raw.publish(topics.detections("cam1"), b"y", packet_id=2, retain=True))
            assert cam.read_kind(raw.PUBACK).packet_id == 2  # refused: a stream, not state
            _overflow_a_queue(handle)
            seen: list[CoreStatus] = []

            def counted() -> bool:
                status = watch.latest()
                if status is not None:
                    seen.append(status)
                last = seen[-1] if seen else None
                return bool(
                    last
                    and last.broker_oversize_dropped
                    and last.broker_retain_refused
                    and last.broker_queue_dropped
                )

            wait_until(counted, timeout=20, message="the broker's drops never reached core")
            status = seen[-1]
            assert (status.broker_oversize_dropped, status.broker_retain_refused) == (1, 1)
            assert status.broker_queue_dropped >= 3 and status.broker_queue_dropped_bytes > 0
            assert status.broker_status_at is not None and status.state == "online"
            assert svc.counters.rejected_total() == 0
        finally:
            cam.close()
            watch.close()
    assert svc.failure is None


def test_a_broker_status_under_another_key_is_refused_and_counted(
    tmp_path: Path, quick_broker_status: None
) -> None:
    # Core pins a key that is not the broker's: each status the broker sends is, to
    # core, forged (the broker's own ACL lets no client publish one).
    core_dir = tmp_path / "core"
    _pin(core_dir / "keys", SigningKey.generate(topics.BROKER_SENDER))
    with brokers.embedded_broker(tmp_path / "broker") as handle:
        cfg = core_config(core_dir, handle.client_config("core", "core"))
        with CoreService(cfg) as svc:
            assert svc.wait_connected(10)
            wait_until(lambda: svc.counters.rejected_total() >= 1, timeout=20)
            status = svc.counters.status("online", 1.0)
    assert status.broker_status_at is None and status.broker_oversize_dropped == 0
    assert list(status.rejected) == ["bad_signature"]
    assert svc.failure is None


def test_a_refused_broker_status_subscription_does_not_stop_core(
    srs_broker: BrokerHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A broker whose ACL predates the broker status (or one that denies it) refuses
    # the subscription; the sightings filter, which core's role may not read, stands
    # for it here. Core reads what it needs and runs on.
    monkeypatch.setattr(core.service, "OPTIONAL_SUBSCRIPTIONS", ((topics.SIGHTINGS, 1),))
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    with caplog.at_level(logging.INFO, logger="srs.mqtt.session"), CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        assert svc.session.wait_subscribed(10)
        wait_until(lambda: "refused the optional subscription" in caplog.text, timeout=10)
        assert svc.failure is None and svc._worker.is_alive()
