"""broker.throttle: a camera over its rate is slowed (never dropped), others are not."""

from __future__ import annotations

import queue
from pathlib import Path

from broker.throttle import TokenBucket
from srs.wire import topics
from tests.broker.probe import WAIT_S, Probe
from tests.brokers import embedded_broker


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_at_once_then_the_rate_holds() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    # Takers beyond the burst queue: each waits one more period than the one before.
    assert [round(bucket.take(), 3) for _ in range(3)] == [0.1, 0.2, 0.3]
    clock.now += 10.0  # a long pause refills the bucket, but never beyond the burst
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() > 0


def test_a_flooding_camera_is_slowed_and_loses_nothing(tmp_path: Path) -> None:
    with embedded_broker(tmp_path, camera_rate=50, camera_burst=10) as broker:
        core = Probe(broker.client_config("core", "core"), "core")
        cam = Probe(broker.client_config("cam1", "camera"), "cam1")
        other = Probe(broker.client_config("cam2", "camera"), "cam2")
        try:
            assert core.connect() and cam.connect() and other.connect()
            assert core.subscribe(topics.ALL_DETECTIONS)
            for i in range(60):
                cam.client.publish(topics.detections("cam1"), b"%d" % i, qos=1)
            other.client.publish(topics.detections("cam2"), b"x", qos=1)
            got = []
            for _ in range(61):
                try:
                    got.append(core.messages.get(timeout=WAIT_S))
                except queue.Empty:
                    break
            mine = [int(m.payload) for m in got if m.topic == topics.detections("cam1")]
            assert mine == list(range(60))  # all of them, in order
            assert [m.payload for m in got if m.topic == topics.detections("cam2")] == [b"x"]
            assert broker.stats is not None
            stats = broker.stats()
            assert stats["publishes_slowed"] >= 60 - 10 - 2  # beyond the burst (+ refill)
        finally:
            for p in (cam, other, core):
                p.close()
