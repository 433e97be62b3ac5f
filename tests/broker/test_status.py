"""broker.status: the broker's counters on srs/v1/broker/status, signed by its own key,
retained, readable by core only, published by nobody else."""

from __future__ import annotations

from pathlib import Path

from broker.status import MAX_NAMED_CLIENTS, key_path, status_of
from srs.config import SecurityConfig
from srs.wire import public_key_from_b64, topics
from srs.wire.payloads import BrokerStatus
from srs.wire.reading import verifier_for
from tests import brokers
from tests.broker import raw
from tests.broker.raw import RawClient
from tests.brokers import BrokerHandle
from tests.waiting import wait_until


def test_status_names_the_clients_that_lost_most_and_only_valid_ids() -> None:
    by_client = {f"cam{n}": n for n in range(100)} | {"core:reader": 10_000}
    got = status_of({"oversize_dropped": 2, "queue_dropped": 7, "other": 5}, by_client, 1.0)
    assert (got.oversize_dropped, got.queue_dropped, got.retain_refused) == (2, 7, 0)
    assert len(got.queue_dropped_by_client) == MAX_NAMED_CLIENTS
    assert (
        "cam99" in got.queue_dropped_by_client and "core:reader" not in got.queue_dropped_by_client
    )


def _client(broker: BrokerHandle, user: str, role: str) -> RawClient:
    cfg = broker.client_config(user, role)
    assert cfg.password is not None
    client = RawClient(broker.host, broker.port)
    client.send(raw.connect(user, user, cfg.password.get_secret_value()))
    assert client.read_kind(raw.CONNACK).body[1] == 0
    return client


def test_core_reads_a_signed_status_that_counts_an_oversize_drop(tmp_path: Path) -> None:
    with brokers.embedded_broker(tmp_path, max_payload_bytes=1024) as broker:
        cam = _client(broker, "cam1", "camera")
        cam.send(raw.publish(topics.detections("cam1"), b"x" * 2048, packet_id=1))
        assert cam.read_kind(raw.PUBACK).packet_id == 1  # acknowledged, dropped
        core = _client(broker, "core", "core")
        core.send(raw.subscribe(1, [(topics.BROKER_STATUS, 1)]))
        assert core.read_kind(raw.SUBACK).body[2] == 1
        public = public_key_from_b64(Path(f"{key_path(tmp_path)}.pub").read_text())
        verifier = verifier_for(SecurityConfig(), lambda who: public if who == "broker" else None)
        while True:  # the retained one, then each change (every few seconds)
            got = core.read_kind(raw.PUBLISH)
            core.send(raw.puback(got.packet_id))
            status = verifier.verify(got.topic, got.payload, BrokerStatus).payload
            if status.oversize_dropped == 1:
                break
        assert status.clients_connected == 2


def test_no_client_may_publish_the_broker_status_and_only_core_may_read_it(
    srs_broker: BrokerHandle,
) -> None:
    assert srs_broker.stats is not None
    core = _client(srs_broker, "core", "core")
    core.send(raw.publish(topics.broker_status(), b"forged", packet_id=1, retain=True))
    wait_until(lambda: srs_broker.stats and srs_broker.stats()["publish_denied"] == 1, raw.WAIT_S)
    for user, role in (("op", "operator"), ("cam1", "camera"), ("ha", "integrator")):
        client = _client(srs_broker, user, role)
        client.send(raw.subscribe(1, [(topics.BROKER_STATUS, 1)]))
        assert client.read_kind(raw.SUBACK).body[2] == 0x80, role
