"""srs.mqtt.session: protocol choice, checked subscriptions and the stop path, on real brokers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from srs.config import MqttConfig
from srs.mqtt import Session, SubscriptionRefused
from srs.wire import topics
from tests import brokers
from tests.brokers import BrokerHandle
from tests.waiting import wait_until

# A camera may read its own acks only: another camera's are refused by the ACL.
OWN_ACKS = (topics.ack("cam1"), 1)
FOREIGN = (topics.ALL_DETECTIONS, 1)


def _camera(broker: BrokerHandle, protocol: str = "auto") -> MqttConfig:
    return broker.client_config("cam1", "camera").model_copy(update={"protocol": protocol})


def _paho_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("paho-", "mqtt-probe-"))]


def test_auto_falls_back_to_3_1_1_on_amqtt(srs_broker: BrokerHandle) -> None:
    with Session(_camera(srs_broker), "cam1", subscriptions=[OWN_ACKS]) as s:
        assert s.wait_connected(15)
        assert s.protocol == "3.1.1"
        assert s.wait_subscribed(5)


def test_auto_falls_back_on_the_refusal_not_on_the_probe_timer(
    srs_broker: BrokerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded broker refuses MQTT 5 with CONNACK 1 (broker.first_packet): the
    # session falls back on that answer, so a probe timer longer than the wait here
    # never comes into it.
    from srs.mqtt import session

    monkeypatch.setattr(session, "PROBE_S", 600.0)
    with Session(_camera(srs_broker), "cam1", subscriptions=[OWN_ACKS]) as s:
        assert s.wait_connected(15)
        assert s.protocol == "3.1.1"
        assert s.wait_subscribed(5)


def test_auto_speaks_5_on_mosquitto(mosquitto_broker: BrokerHandle) -> None:
    with Session(_camera(mosquitto_broker), "cam1", subscriptions=[OWN_ACKS]) as s:
        assert s.wait_connected(10)
        assert s.protocol == "5"
        assert s.wait_subscribed(5)


def test_a_refused_subscription_names_the_filter_on_amqtt(srs_broker: BrokerHandle) -> None:
    refused: list[SubscriptionRefused] = []
    with Session(
        _camera(srs_broker, "3.1.1"),
        "cam1",
        subscriptions=[OWN_ACKS, FOREIGN],
        on_refused=refused.append,
    ) as s:
        assert s.wait_connected(10)
        with pytest.raises(SubscriptionRefused) as caught:
            s.wait_subscribed(5)
    sentence = str(caught.value)
    assert topics.ALL_DETECTIONS in sentence and topics.ack("cam1") not in sentence
    assert "0x80" in sentence
    assert refused == [caught.value]
    assert caught.value.refused == [(topics.ALL_DETECTIONS, 0x80)]


def test_a_refused_optional_subscription_is_logged_once_and_not_raised(
    srs_broker: BrokerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level("INFO", logger="srs.mqtt.session"),
        Session(
            _camera(srs_broker, "3.1.1"), "cam1", subscriptions=[OWN_ACKS], optional=[FOREIGN]
        ) as s,
    ):
        assert s.wait_connected(10)
        assert s.wait_subscribed(5)  # no SubscriptionRefused
        assert s.refused is None
    said = [r for r in caplog.records if "refused the optional subscription" in r.message]
    assert len(said) == 1 and topics.ALL_DETECTIONS in said[0].getMessage()


def test_stop_leaves_no_thread(srs_broker: BrokerHandle) -> None:
    before = set(_paho_threads())
    s = Session(_camera(srs_broker, "auto"), "cam1", subscriptions=[OWN_ACKS]).start()
    assert s.wait_connected(15)  # after a fall-back: two clients were started
    s.stop()
    assert set(_paho_threads()) <= before
    assert not s.connected.is_set()


def test_stop_before_the_broker_answers_leaves_no_thread() -> None:
    from tests.brokers import free_port

    before = set(_paho_threads())
    s = Session(MqttConfig(port=free_port()), "nobody").start()
    s.stop()
    s.stop()  # once is enough; twice is harmless
    assert set(_paho_threads()) <= before


def test_publish_and_receive_over_mqtt_5(mosquitto_broker: BrokerHandle) -> None:
    got: list[bytes] = []
    core = mosquitto_broker.client_config("core", "core")
    with (
        Session(
            core,
            "core",
            subscriptions=[(topics.ALL_DETECTIONS, 1)],
            on_message=lambda c, u, msg: got.append(bytes(msg.payload)),
        ) as sub,
        Session(_camera(mosquitto_broker), "cam1") as cam,
    ):
        assert sub.wait_connected(10) and sub.wait_subscribed(5)
        assert cam.wait_connected(10)
        info = cam.publish(topics.detections("cam1"), b"x")
        info.wait_for_publish(5)
        wait_until(lambda: got == [b"x"], timeout=5)


def test_a_persistent_mqtt_5_session_keeps_the_backlog(mosquitto_broker: BrokerHandle) -> None:
    core = mosquitto_broker.client_config("core", "core")
    got: list[bytes] = []

    def core_session() -> Session:
        return Session(
            core,
            "core",
            clean_session=False,
            subscriptions=[(topics.ALL_DETECTIONS, 1)],
            on_message=lambda c, u, msg: got.append(bytes(msg.payload)),
        )

    with core_session() as s:
        assert s.wait_connected(10) and s.wait_subscribed(5) and s.protocol == "5"
    with Session(_camera(mosquitto_broker), "cam1") as cam:  # core is away meanwhile
        assert cam.wait_connected(10)
        cam.publish(topics.detections("cam1"), b"while away").wait_for_publish(5)
    with core_session() as s:
        assert s.wait_connected(10)
        wait_until(lambda: got == [b"while away"], timeout=5)


def test_a_shared_subscription_gives_each_message_to_one_member(
    mosquitto_broker: BrokerHandle,
) -> None:
    got: dict[str, list[bytes]] = {"core": [], "core2": []}
    shared = (topics.shared("core", topics.ALL_DETECTIONS), 1)
    members = [
        Session(
            mosquitto_broker.client_config(user, "core"),
            user,
            subscriptions=[shared],
            on_message=lambda c, u, msg, user=user: got[user].append(bytes(msg.payload)),
        )
        for user in got
    ]
    with members[0] as a, members[1] as b, Session(_camera(mosquitto_broker), "cam1") as cam:
        for s in (a, b):
            assert s.wait_connected(10) and s.wait_subscribed(5)
        assert cam.wait_connected(10)
        sent = [str(i).encode() for i in range(20)]
        for data in sent:
            cam.publish(topics.detections("cam1"), data)
        wait_until(lambda: len(got["core"]) + len(got["core2"]) >= 20, timeout=10)
    assert sorted(got["core"] + got["core2"]) == sorted(sent)  # each once, none twice
    assert got["core"] and got["core2"]


DYNSEC = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")


@contextmanager
def _mosquitto_checking_subscriptions(workdir: Path, binary: str) -> Iterator[BrokerHandle]:
    """Mosquitto with its dynamic-security plugin: one camera user, cam1, that may read
    its own acks only. The file ACL of `srs broker export` never refuses a SUBSCRIBE
    (Mosquitto 2.0 grants it and delivers nothing); this plugin refuses with 0x87."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", b"pw-cam1", salt, 101, 64)
    camera = {
        "rolename": "camera",
        "acls": [
            {"acltype": "subscribePattern", "topic": topics.ack("cam1"), "allow": True},
            {"acltype": "publishClientSend", "topic": topics.detections("cam1"), "allow": True},
        ],
    }
    state = {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [
            {
                "username": "cam1",
                "password": base64.b64encode(digest).decode(),
                "salt": base64.b64encode(salt).decode(),
                "iterations": 101,
                "roles": [{"rolename": "camera"}],
            }
        ],
        "groups": [],
        "roles": [camera],
    }
    (workdir / "dynsec.json").write_text(json.dumps(state))
    port = brokers.free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\nplugin {DYNSEC}\n"
        f"plugin_opt_config_file {workdir / 'dynsec.json'}\n"
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    log_path = workdir / "mosquitto.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        assert brokers._wait_listening(proc, port, log_path), log_path.read_text()
        yield BrokerHandle("127.0.0.1", port, kind="mosquitto")
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_refused_subscription_names_the_filter_on_mosquitto(
    tmp_path: Path, protocol: str
) -> None:
    binary = brokers.mosquitto_binary()
    if binary is None or not DYNSEC.exists():
        pytest.skip("mosquitto and its dynamic-security plugin are not installed")
    with _mosquitto_checking_subscriptions(tmp_path, binary) as broker:
        cfg = broker.client_config("cam1").model_copy(update={"protocol": protocol})
        with Session(cfg, "cam1", subscriptions=[OWN_ACKS, FOREIGN]) as s:
            assert s.wait_connected(10), s.last_error
            with pytest.raises(SubscriptionRefused) as caught:
                s.wait_subscribed(5)
    reason = "Not authorized, 0x87" if protocol == "5" else "0x80: MQTT 3.1.1 gives no reason"
    assert str(caught.value).startswith(
        f"the broker refused the subscription to '{topics.ALL_DETECTIONS}' ({reason}"
    )


def test_a_refused_publish_is_logged_with_the_brokers_reason(
    mosquitto_broker: BrokerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level("WARNING", logger="srs.mqtt.session"),
        Session(_camera(mosquitto_broker), "cam1") as cam,
    ):
        assert cam.wait_connected(10) and cam.protocol == "5"
        # A topic the camera may not write: an MQTT 5 PUBACK says so (3.1.1 cannot).
        cam.publish(topics.core_status(), b"x").wait_for_publish(5)
        wait_until(lambda: "refused a publish" in caplog.text, timeout=5)
    assert (
        f"cam1: the broker refused a publish on {topics.core_status()} (Not authorized, 0x87)"
        in caplog.text
    )
