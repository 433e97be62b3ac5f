"""Retain only what may be retained: detections (face encodings) never stay on the broker."""

from __future__ import annotations

import pytest

from srs.wire import topics
from tests.broker.probe import Probe
from tests.brokers import BrokerHandle


@pytest.mark.parametrize(
    ("topic", "allowed"),
    [
        (topics.detections("cam1"), False),
        (topics.ack("cam1"), False),
        (topics.sightings(), False),
        (topics.zone_events(), False),
        (topics.alerts(), False),
        (topics.request("op1"), False),
        (topics.camera_status("cam1"), True),
        (topics.position("p1"), True),
        (topics.core_status(), True),
        (topics.key("core"), True),
        (topics.site(), True),
        (topics.ha_state("p1"), True),
        ("elsewhere/cameras/cam1/detections", False),
    ],
)
def test_the_contract_says_which_topics_may_be_retained(topic: str, allowed: bool) -> None:
    assert topics.may_retain(topic) is allowed


def test_a_retained_detection_is_refused_counted_and_never_replayed(
    srs_broker: BrokerHandle,
) -> None:
    assert srs_broker.stats is not None
    core = Probe(srs_broker.client_config("core", "core"), "core")
    cam = Probe(srs_broker.client_config("cam1", "camera"), "cam1")
    assert core.connect() and cam.connect()
    try:
        assert core.subscribe(topics.ALL_DETECTIONS)
        cam.publish(topics.detections("cam1"), b"encodings", retain=True)
        cam.publish(topics.detections("cam1"), b"marker")
        core.expect(topics.detections("cam1"), b"marker")  # in order: the first came before
        assert [m.payload for m in core.seen] == [b"marker"]
        assert srs_broker.stats()["retain_refused"] == 1

        cam.publish(topics.camera_status("cam1"), b"online", retain=True)  # state: kept
        late = Probe(srs_broker.client_config("core", "core"), "core:late")
        assert late.connect()
        try:
            assert late.subscribe(topics.ALL_DETECTIONS)
            assert late.subscribe(topics.ALL_CAMERA_STATUS)
            late.expect(topics.camera_status("cam1"), b"online")
            cam.publish(topics.detections("cam1"), b"witness")
            late.expect(topics.detections("cam1"), b"witness")
            assert [m.payload for m in late.seen if m.topic == topics.detections("cam1")] == [
                b"witness"
            ]
        finally:
            late.close()
    finally:
        cam.close()
        core.close()
