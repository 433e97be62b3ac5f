"""The embedded broker itself: plugins loaded, keepalive, size cap, restart, TLS, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker, amqtt_config
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.mqtt import Will, make_client
from srs.wire import topics
from tests.broker.probe import WAIT_S, Probe
from tests.broker.tls_cert import self_signed
from tests.brokers import BrokerHandle, fast_user_store, free_port
from tests.waiting import wait_until


def _cfg(data_dir: Path, **broker: Any) -> SrsConfig:
    return SrsConfig(data_dir=data_dir, broker=BrokerConfig(bind="127.0.0.1", port=0, **broker))


def test_only_srs_plugins_are_loaded(tmp_path: Path) -> None:
    with EmbeddedBroker(_cfg(tmp_path)) as server:
        manager = server.broker.plugins_manager
        assert manager.get_plugin("SrsAuthPlugin") is not None
        assert manager.get_plugin("SrsTopicPlugin") is not None
        names = {type(p).__name__ for p in manager._plugins}
        assert names == {"SrsAuthPlugin", "SrsTopicPlugin"}  # no anonymous, no $SYS


def test_loopback_by_default_and_both_tls_files_required(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    assert (
        amqtt_config(cfg, tmp_path / "u.json")["listeners"]["default"]["bind"] == "127.0.0.1:1883"
    )
    half = _cfg(tmp_path, cert_file=tmp_path / "c.pem")
    with pytest.raises(ValueError, match="both cert_file and key_file"):
        amqtt_config(half, tmp_path / "u.json")


def test_silent_client_is_dropped_and_its_will_sent(srs_broker: BrokerHandle) -> None:
    core = Probe(srs_broker.client_config("core", "core"), "core")
    assert core.connect() and core.subscribe(topics.ALL_CAMERA_STATUS)
    cfg = srs_broker.client_config("cam1", "camera")
    silent = make_client(cfg, "cam1", will=Will(topics.camera_status("cam1"), b"offline"))
    connected = threading.Event()
    silent.on_connect = lambda *a: connected.set()
    silent.connect(cfg.host, cfg.port, keepalive=1)
    while not connected.is_set():
        silent.loop(0.05)
    # No more loop() calls: no PINGREQ. The broker must give up after 1.5 x 1 s.
    try:
        core.expect(topics.camera_status("cam1"), b"offline")
    finally:
        sock = silent.socket()
        if sock is not None:
            sock.close()
        core.close()


def test_huge_packet_closes_the_connection_and_the_broker_keeps_serving(
    srs_broker: BrokerHandle,
) -> None:
    core = Probe(srs_broker.client_config("core", "core"), "core")
    assert core.connect() and core.subscribe(topics.ALL_DETECTIONS)
    cam = Probe(srs_broker.client_config("cam1", "camera"), "cam1")
    assert cam.connect()
    cam.client.publish(topics.detections("cam1"), b"z" * (1024 * 1024), qos=0)
    cam.client.reconnect_delay_set(60, 60)  # keep it down so the disconnect is observable
    wait_until(
        lambda: cam.disconnects > 0,
        timeout=WAIT_S,
        message="the broker did not close a 1 MiB publish",
    )
    other = Probe(srs_broker.client_config("cam2", "camera"), "cam2")
    assert other.connect()
    other.publish(topics.detections("cam2"), b"fine")
    core.expect(topics.detections("cam2"), b"fine")
    assert topics.detections("cam1") not in core.topics()
    for p in (core, cam, other):
        p.close()


def test_retained_messages_survive_a_restart(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    store = fast_user_store(default_path(cfg))
    store.add("core", "core", "core-password")
    store.add("op1", "operator", "op1-password")
    with EmbeddedBroker(cfg) as server:
        core = Probe(
            MqttConfig(
                host="127.0.0.1",
                port=server.port,
                username="core",
                password=SecretStr("core-password"),
            ),
            "core",
        )
        witness = Probe(
            MqttConfig(
                host="127.0.0.1",
                port=server.port,
                username="op1",
                password=SecretStr("op1-password"),
            ),
            "op1",
        )
        assert core.connect() and witness.connect() and witness.subscribe(topics.SITE)
        core.publish(topics.site(), b"plan", retain=True)
        # PUBACK comes before amqtt stores the message; a delivery comes after.
        witness.expect(topics.site(), b"plan")
        core.close()
        witness.close()
    with EmbeddedBroker(cfg) as server:
        op = Probe(
            MqttConfig(
                host="127.0.0.1",
                port=server.port,
                username="op1",
                password=SecretStr("op1-password"),
            ),
            "op1",
        )
        assert op.connect() and op.subscribe(topics.SITE)
        assert op.expect(topics.site()).payload == b"plan"
        op.close()


def test_tls_listener(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    cfg = _cfg(tmp_path, cert_file=cert, key_file=key, tls_port=0)
    fast_user_store(default_path(cfg)).add("core", "core", "core-password")
    with EmbeddedBroker(cfg) as server:
        assert server.tls_port
        tls = MqttConfig(
            host="127.0.0.1",
            port=server.tls_port,
            username="core",
            password=SecretStr("core-password"),
            tls=True,
            ca_file=cert,
        )
        probe = Probe(tls, "core")
        assert probe.connect()
        probe.close()


def test_users_added_and_removed_while_running(srs_broker: BrokerHandle) -> None:
    assert srs_broker.store is not None
    cfg = srs_broker.client_config("late", "integrator")  # added after the broker started
    probe = Probe(cfg, "late")
    assert probe.connect()
    probe.close()
    srs_broker.store.remove("late")
    assert not Probe(cfg, "late").connect()


def test_srs_broker_command_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "srs.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n\n[broker]\nbind = "127.0.0.1"\nport = {port}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "srs.app", "broker", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    rest = ""
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "broker listening on" in line:
                break
        assert any(f"127.0.0.1:{port}" in line for line in lines), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + rest
    assert "broker stopped" in rest


def test_paho_sees_the_refusal_reason(srs_broker: BrokerHandle) -> None:
    cfg = srs_broker.client_config("cam1", "camera")
    wrong_id = Probe(cfg, "cam2")
    assert not wrong_id.connect()
    assert (
        wrong_id.rc == paho.CONNACK_REFUSED_IDENTIFIER_REJECTED
        or "identifier" in str(wrong_id.rc).lower()
    )


def test_refusals_are_counted(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    store = fast_user_store(default_path(cfg))
    store.add("core", "core", "core-password")
    store.add("cam1", "camera", "cam1-password")
    with EmbeddedBroker(cfg) as server:
        mqtt = MqttConfig(host="127.0.0.1", port=server.port)
        assert not Probe(mqtt, "anon").connect()
        core = Probe(
            mqtt.model_copy(update={"username": "core", "password": SecretStr("core-password")}),
            "core",
        )
        assert core.connect() and core.subscribe(topics.ALL_DETECTIONS)
        assert not core.subscribe("#")
        cam = Probe(
            mqtt.model_copy(update={"username": "cam1", "password": SecretStr("cam1-password")}),
            "cam1",
        )
        assert cam.connect()
        cam.publish(topics.detections("cam2"), b"forged")
        cam.publish(topics.detections("cam1"), b"x" * (64 * 1024 + 1))
        cam.publish(topics.detections("cam1"), b"ok")
        core.expect(topics.detections("cam1"), b"ok")
        stats = server.stats()
        for p in (core, cam):
            p.close()
    assert stats["connections_refused"] == 1
    assert stats["subscribe_denied"] == 1
    assert stats["publish_denied"] == 1
    assert stats["oversize_dropped"] == 1


def test_a_client_that_never_sends_connect_is_dropped(
    srs_broker: BrokerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from broker import amqtt_broker

    monkeypatch.setattr(amqtt_broker, "CONNECT_TIMEOUT_S", 0.2)
    with socket.create_connection((srs_broker.host, srs_broker.port), timeout=WAIT_S) as sock:
        assert sock.recv(1) == b""  # closed by the broker, not by our timeout


def test_a_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    from broker.server import BrokerStartError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cfg = _cfg(tmp_path).model_copy(
            update={"broker": BrokerConfig(bind="127.0.0.1", port=busy.getsockname()[1])}
        )
        with pytest.raises(BrokerStartError, match="address already in use"):
            EmbeddedBroker(cfg).start()
