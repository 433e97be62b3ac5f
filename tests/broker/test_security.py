"""The broker's promises, against the embedded broker AND Mosquitto and NATS from the export.

Negative checks never sleep: a *witness* that may receive the forbidden message
must first receive a later, allowed one, so anything forbidden that got through
would already have arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from srs.config import MqttConfig
from srs.wire import topics
from tests.broker.probe import Probe
from tests.brokers import BrokerHandle

Connect = Callable[..., Probe]


@pytest.fixture
def connect(any_broker: BrokerHandle) -> Iterator[Connect]:
    probes: list[Probe] = []

    def _connect(user: str, role: str, client_id: str | None = None) -> Probe:
        probe = Probe(any_broker.client_config(user, role), client_id or user)
        assert probe.connect(), f"{user} ({role}) was refused: {probe.rc}"
        probes.append(probe)
        return probe

    yield _connect
    for probe in probes:
        probe.close()


def test_anonymous_is_refused(any_broker: BrokerHandle) -> None:
    any_broker.client_config("core", "core")  # the broker has users; still no anonymous
    probe = Probe(MqttConfig(host=any_broker.host, port=any_broker.port), "anon")
    assert not probe.connect()


def test_wrong_password_and_unknown_user_are_refused(any_broker: BrokerHandle) -> None:
    cfg = any_broker.client_config("core", "core")
    assert not Probe(cfg, "core", password="not-the-password").connect()
    assert not Probe(cfg, "nobody", username="nobody", password="any-password").connect()


def test_allowed_traffic_flows(connect: Connect) -> None:
    core = connect("core", "core")
    for f in (topics.ALL_DETECTIONS, topics.ALL_REQUESTS, topics.ALL_CAMERA_STATUS):
        assert core.subscribe(f)
    cam = connect("cam1", "camera", "cam1:edge")
    assert cam.subscribe(topics.ack("cam1"))
    op = connect("op1", "operator", "op1:gui")
    for f in (topics.response("op1"), topics.ALL_POSITIONS, topics.ALL_CAMERA_STATUS):
        assert op.subscribe(f)
    integ = connect("ha", "integrator")
    assert integ.subscribe(topics.ALL_POSITIONS) and integ.subscribe(topics.ALL_EVENTS)

    cam.publish(topics.detections("cam1"), b"batch")
    core.expect(topics.detections("cam1"), b"batch")
    cam.publish(topics.camera_status("cam1"), b"online", retain=True)
    core.expect(topics.camera_status("cam1"))
    op.expect(topics.camera_status("cam1"))
    core.publish(topics.ack("cam1"), b"ack")
    cam.expect(topics.ack("cam1"), b"ack")
    core.publish(topics.position("p1"), b"here")
    op.expect(topics.position("p1"))
    integ.expect(topics.position("p1"))
    core.publish(topics.zone_events(), b"enter")
    integ.expect(topics.zone_events())
    core.publish(topics.alerts(), b"alert")
    integ.expect(topics.alerts())  # both through the one events/# subscription
    op.publish(topics.request("op1"), b"cmd")
    core.expect(topics.request("op1"))
    core.publish(topics.response("op1"), b"done")
    op.expect(topics.response("op1"))


def test_camera_cannot_publish_as_another_camera(connect: Connect) -> None:
    core = connect("core", "core")
    assert core.subscribe(topics.ALL_DETECTIONS) and core.subscribe(topics.ALL_CAMERA_STATUS)
    connect("cam2", "camera")  # cam2 exists, so only the ACL stands in the way
    cam1 = connect("cam1", "camera")
    cam1.publish(topics.detections("cam2"), b"forged")
    cam1.publish(topics.camera_status("cam2"), b"forged", retain=True)
    cam1.publish(topics.detections("cam1"), b"marker")
    core.expect(topics.detections("cam1"), b"marker")
    assert not [m for m in core.seen if b"forged" in m.payload], core.topics()


@pytest.mark.parametrize("role", ["integrator", "admin", "operator"])
def test_only_core_ever_receives_detections(
    connect: Connect, any_broker: BrokerHandle, role: str
) -> None:
    core = connect("core", "core")
    assert core.subscribe(topics.ALL_DETECTIONS)
    reader = connect("reader", role)
    refused = [
        f
        for f in (
            "#",
            "srs/v1/#",
            "srs/v1/+/+/detections",
            topics.ALL_DETECTIONS,
            "srs/v1/cameras/cam1/+",
        )
        if not reader.subscribe(f)
    ]
    if any_broker.kind == "amqtt":  # it refuses the widening outright; Mosquitto filters
        assert len(refused) == 5
    assert reader.subscribe(topics.SIGHTINGS)
    cam = connect("cam1", "camera")
    # Retained: the embedded broker refuses that (test_retain.py); Mosquitto keeps it.
    cam.publish(topics.detections("cam1"), b"encodings", retain=True)
    cam.publish(topics.detections("cam1"), b"marker")
    core.expect(topics.detections("cam1"), b"marker")
    core.publish(topics.sightings(), b"witness")
    reader.expect(topics.sightings(), b"witness")
    assert topics.detections("cam1") not in reader.topics()

    # A late subscriber must not get the retained detection either.
    late = connect("reader", role, "reader:late")
    late.subscribe("#")
    late.subscribe(topics.ALL_DETECTIONS)
    assert late.subscribe(topics.SIGHTINGS)
    core.publish(topics.sightings(), b"witness2")
    late.expect(topics.sightings(), b"witness2")
    assert topics.detections("cam1") not in late.topics()


def test_client_id_takeover_is_refused(connect: Connect, any_broker: BrokerHandle) -> None:
    if any_broker.kind == "nats":
        pytest.xfail("NATS 2.9 cannot bind a client id to its user (docs/broker.md)")
    core = connect("core", "core")
    assert core.subscribe(topics.ALL_DETECTIONS)
    cam_cfg = any_broker.client_config("cam1", "camera")
    # Another user, and an anonymous client, both claiming core's client id.
    intruder = Probe(cam_cfg, "core")
    accepted = intruder.connect()
    if any_broker.kind == "amqtt":
        assert not accepted  # CONNACK "identifier rejected"
    intruder.close()  # Mosquitto renamed it to "cam1" instead
    assert not Probe(MqttConfig(host=any_broker.host, port=any_broker.port), "core").connect()

    cam = connect("cam1", "camera")
    cam.publish(topics.detections("cam1"), b"still-here")
    core.expect(topics.detections("cam1"), b"still-here")
    assert core.disconnects == 0


def test_oversize_payload_never_reaches_a_subscriber(
    connect: Connect, any_broker: BrokerHandle
) -> None:
    if any_broker.kind == "nats":  # SRS's readers refuse it (srs.wire.signing.Verifier)
        pytest.xfail("NATS 2.9 applies no size limit to MQTT publishes (docs/broker.md)")
    limit = 64 * 1024  # both fixtures use the default max_payload_bytes
    core = connect("core", "core")
    assert core.subscribe(topics.ALL_DETECTIONS)
    cam = connect("cam1", "camera")
    cam.publish(topics.detections("cam1"), b"x" * (limit + 1))
    cam.publish(topics.detections("cam1"), b"y" * limit)
    core.expect(topics.detections("cam1"), b"y" * limit)
    assert all(len(m.payload) <= limit for m in core.seen)


def test_persistent_session_gets_what_was_published_while_offline(
    any_broker: BrokerHandle, connect: Connect
) -> None:
    # core uses clean_session=False with client id "core" (core/service.py).
    core_cfg = any_broker.client_config("core", "core")
    core = Probe(core_cfg, "core", clean_session=False)
    assert core.connect() and core.subscribe(topics.ALL_DETECTIONS)
    core.close()
    cam = connect("cam1", "camera")
    cam.publish(topics.detections("cam1"), b"while-away", qos=1)
    again = Probe(core_cfg, "core", clean_session=False)
    try:
        assert again.connect()
        again.expect(topics.detections("cam1"), b"while-away")
    finally:
        again.close()
