"""Camera partitions of several core instances (core/partition.py): pure grouping,
and the partitioner on real SQLite with fake clocks."""

from __future__ import annotations

from core.config import CoreConfig
from core.partition import Partitioner, client_id, instance_id, partitions
from core.site import parse_site
from core.store.db import Database, make_engine, migrate
from srs.wire import topics

# Two rooms 50 m apart, two cameras each, and one camera not on the plan.
SITE = parse_site(
    {
        "name": "two rooms",
        "width_m": 100.0,
        "height_m": 10.0,
        "cameras": [
            {"id": "a1", "x": 1, "y": 1, "yaw_deg": 45},
            {"id": "a2", "x": 4, "y": 1, "yaw_deg": 90},
            {"id": "b1", "x": 60, "y": 1, "yaw_deg": 90},
            {"id": "b2", "x": 63, "y": 1, "yaw_deg": 90},
        ],
    }
)
CAMS = ["a1", "a2", "b1", "b2", "lobby"]


def test_every_camera_on_the_plan_is_one_partition_by_default():
    got = partitions(CAMS, SITE, 0.0)
    assert got == {"a1": "a1", "a2": "a1", "b1": "a1", "b2": "a1", "lobby": "lobby"}


def test_fusion_distance_splits_the_plan_into_rooms():
    got = partitions(CAMS, SITE, 10.0)
    assert got == {"a1": "a1", "a2": "a1", "b1": "b1", "b2": "b1", "lobby": "lobby"}


def test_without_a_site_each_camera_is_a_partition():
    assert partitions(["y", "x"], None, 0.0) == {"x": "x", "y": "y"}


def test_instance_ids_and_client_ids():
    assert client_id("core") == "core"  # the single instance keeps its old client id
    assert client_id("n2") == "core:n2"
    assert client_id("n2", "core-b") == "core-b:n2"  # a broker user of its own
    auto = instance_id("auto")
    assert auto.endswith(f"-{__import__('os').getpid()}")
    topics.check_id(auto)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_partitioner_subscribes_to_what_it_holds_and_stops_when_leases_lapse(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'srs.db'}")
    migrate(engine)
    db = Database(engine)
    wall, mono = Clock(1_000.0), Clock(50.0)
    cfg = CoreConfig(instance="n1", fusion_distance_m=10.0)
    p = Partitioner(db, cfg, SITE, instance="n1", clock=wall, monotonic=mono)
    change = p.renew(CAMS)
    assert set(change.subscribe) == {topics.detections(c) for c in CAMS}
    assert change.leader and change.leader_changed
    assert p.holds("b2") and p.is_leader()
    mono.now += cfg.lease_ttl_s / 2 + 0.1  # no renewal since: not surely ours any more
    assert not p.holds("b2") and not p.is_leader()
    db.close()
