"""The link against a real broker and an acker playing core: refusals, core's return,
a clock that is off (issue 21). The acks' timeout is an hour here, so whatever goes
again goes for the reason each test names, never after that timeout."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.config import EdgeConfig
from edge.link import Link
from edge.node import key_path, outbox_path
from edge.outbox import Outbox
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire import topics
from srs.wire.payloads import DetectionBatch, Refusal
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle, free_port
from tests.edge.acker import Acker
from tests.waiting import wait_until

CAM = "cam5"
HOUR = 3600.0


def message(seq: int) -> str:
    return DetectionBatch(
        camera_id=CAM,
        seq=seq,
        captured_at=round(time.time(), 3),
        frame_width=64,
        frame_height=48,
        detections=[],
    ).model_dump_json()


class Node:
    """A link and its outbox, as ``srs edge`` wires them, and an acker for core."""

    def __init__(self, broker: BrokerHandle, tmp_path: Path, **edge: Any) -> None:
        self.cfg = SrsConfig(
            data_dir=tmp_path,
            mqtt=broker.client_config(CAM, "camera"),
            edge=EdgeConfig(camera_id=CAM, ack_timeout_s=HOUR, heartbeat_interval_s=0.3, **edge),
        )
        key = SigningKey.load_or_create(topics.camera_issuer(CAM), key_path(self.cfg, CAM))
        core_key = SigningKey.load_or_create(topics.CORE_SENDER, self.cfg.keys_dir / "core.key")
        self.acker = Acker(broker.client_config("core", "core"), key, core_key, CAM)
        self.acker.start(broker.host, broker.port)
        self.outbox = Outbox(outbox_path(self.cfg, CAM))
        self.link = Link(self.cfg, self.cfg.edge, self.outbox, key, status=lambda: {})

    def add(self, n: int) -> None:
        for _ in range(n):
            self.outbox.add(message)
        self.link.wake.set()

    def last_status_message(self) -> str:
        with self.acker.lock:
            return self.acker.statuses[-1].message if self.acker.statuses else ""

    def close(self) -> None:
        self.link.stop()
        self.acker.stop()
        self.outbox.close()


@pytest.fixture
def node(srs_broker: BrokerHandle, tmp_path: Path) -> Iterator[Node]:
    n = Node(srs_broker, tmp_path)
    yield n
    n.close()


def test_a_store_error_holds_the_backlog_behind_a_probe_sent_in_seconds(node: Node) -> None:
    failing = {"on": True}
    node.acker.refuse = lambda batch: (
        Refusal(reason="store_error", message="database or disk is full") if failing["on"] else None
    )
    node.link.start()
    node.add(5)
    wait_until(lambda: node.acker.refused >= 7, 30, message="no probe after a store error")
    assert node.outbox.depth == 5 and node.acker.stored == []  # refused is not stored
    assert node.link.backlog.holding == "store"
    received = node.acker.received
    time.sleep(2.0)  # one message at a time, at most every 2 s: not the backlog
    assert node.acker.received - received <= 2
    failing["on"] = False
    wait_until(lambda: node.outbox.depth == 0, 30, message="the held messages never went")
    assert sorted(node.acker.stored) == [0, 1, 2, 3, 4]
    assert node.link.acked == 5 and node.outbox.dropped == 0


def test_core_coming_back_online_gets_the_backlog_at_once(node: Node) -> None:
    node.acker.refuse = lambda batch: "drop"  # core away: its broker lost what was sent
    node.link.start()
    node.add(4)
    wait_until(lambda: node.acker.received >= 4, 30)
    node.acker.refuse = lambda batch: None
    node.acker.publish_status("online")  # core is back
    wait_until(lambda: node.outbox.depth == 0, 30, message="the backlog waited for the timeout")
    assert sorted(node.acker.stored) == [0, 1, 2, 3]


def test_a_clock_3_h_off_is_reported_and_holds_the_backlog(node: Node) -> None:
    """Core's clock is 3 h behind the node's, as a node 3 h ahead sees it: core refuses
    every message; the node says why in its status, sends only a probe now and then,
    and sends everything once the clocks agree again."""
    node.acker.core_offset_s = -10_800.0

    def refuse(batch: DetectionBatch) -> Refusal | None:
        if node.acker.core_offset_s == 0.0:
            return None
        return Refusal(
            reason="clock_ahead", message="clock 10800 s ahead of core", clock_offset_s=10_800.0
        )

    node.acker.refuse = refuse
    node.link.start()
    node.add(20)
    wait_until(lambda: node.acker.refused >= 1, 30)
    node.acker.publish_status()
    wait_until(
        lambda: "clock 10,800 s ahead of core" in node.last_status_message(),
        30,
        message=lambda: f"the status says {node.last_status_message()!r}",
    )
    with node.acker.lock:
        status = node.acker.statuses[-1]
    assert status.clock_offset_s is not None and abs(status.clock_offset_s - 10_800) < 5
    received = node.acker.received
    time.sleep(3.0)  # what a looping node would re-send meanwhile: a window each time
    assert node.acker.received - received <= 2  # a probe or two, not the backlog
    assert node.outbox.depth == 20 and node.outbox.refused == 0

    node.acker.core_offset_s = 0.0  # the clocks agree again
    node.acker.publish_status()
    wait_until(lambda: node.outbox.depth == 0, 30, message="the held backlog never went")
    assert sorted(node.acker.stored) == list(range(20))
    wait_until(lambda: "clock" not in node.last_status_message(), 30)


def test_a_message_refused_for_time_while_the_clock_is_fine_is_given_up(node: Node) -> None:
    """Made while the clock was 3 h ahead, then the node restarted with a right clock:
    its captured_at cannot become right by waiting, so it is given up and counted."""
    node.acker.refuse = lambda batch: (
        Refusal(reason="clock_ahead", message="captured 10800 s in the future", clock_offset_s=0.1)
        if batch.seq == 1
        else None
    )
    node.link.start()
    node.acker.publish_status()  # the node measures its clock: fine
    node.add(3)
    wait_until(lambda: node.outbox.depth == 0, 30)
    assert sorted(node.acker.stored) == [0, 2]
    assert node.outbox.refused == 1 and node.outbox.dropped == 0


def test_not_heard_for_a_while_is_said_in_the_status(
    srs_broker: BrokerHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n = Node(srs_broker, tmp_path, not_heard_after_s=1.0)
    try:
        n.acker.refuse = lambda batch: Refusal(
            reason="store_error", message="core cannot write its database: disk full"
        )
        n.link.start()
        n.add(3)
        wait_until(
            lambda: "not heard by core" in n.last_status_message(),
            30,
            message=lambda: f"the status says {n.last_status_message()!r}",
        )
        text = n.last_status_message()
        assert "3 message(s) waiting" in text and "disk full" in text
        with n.acker.lock:
            assert (n.acker.statuses[-1].unacked_s or 0) >= 1.0
        lines = [r for r in caplog.records if "not heard by core" in r.getMessage()]
        assert len(lines) == 1  # once, not every heartbeat
        n.acker.refuse = lambda batch: None
        wait_until(lambda: n.outbox.depth == 0, 30)
        wait_until(lambda: "not heard" not in n.last_status_message(), 30)
        wait_until(lambda: any("heard by core again" in r.message for r in caplog.records), 30)
    finally:
        n.close()


def test_status_fields_are_optional_for_older_readers() -> None:
    # A status from an older node (no issue-21 fields) still reads.
    old = {"camera_id": CAM, "state": "online", "sent_at": 1.0e9}
    from srs.wire.payloads import CameraStatus

    status = CameraStatus.model_validate_json(json.dumps(old))
    assert status.unacked_s is None and status.clock_offset_s is None
    assert status.outbox_refused == 0


def test_not_heard_is_logged_while_the_broker_is_out_of_reach(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = SrsConfig(
        data_dir=tmp_path,
        mqtt=MqttConfig(host="127.0.0.1", port=free_port(), username=CAM),
        edge=EdgeConfig(camera_id=CAM, not_heard_after_s=0.5),
    )
    key = SigningKey.load_or_create(topics.camera_issuer(CAM), key_path(cfg, CAM))
    with Outbox(outbox_path(cfg, CAM)) as outbox:
        outbox.add(message)
        link = Link(cfg, cfg.edge, outbox, key, status=lambda: {})
        link.start()
        try:
            wait_until(
                lambda: any("not connected to the broker" in r.message for r in caplog.records),
                30,
                message="nothing said while the broker was out of reach",
            )
        finally:
            link.stop()
    said = [r.message for r in caplog.records if "not heard by core" in r.message]
    assert len(said) == 1 and "1 message(s) waiting" in said[0]


def test_a_message_made_before_a_clock_step_goes_with_its_time_moved(
    srs_broker: BrokerHandle, tmp_path: Path
) -> None:
    """Made while the clock was 3 h ahead, sent after NTP stepped it back: its
    captured_at is what the fixed clock would have said (not 3 h in the future)."""
    n = Node(srs_broker, tmp_path)
    base = [5_000.0]  # the outbox's clock base: moves only when the clock is stepped
    n.outbox.close()
    n.outbox = Outbox(outbox_path(n.cfg, CAM), base=lambda: base[0])
    n.link = Link(n.cfg, n.cfg.edge, n.outbox, n.link.key, status=lambda: {})
    try:
        made = time.time()
        n.outbox.add(message)
        base[0] -= 10_800.0  # the clock is stepped back by 3 h
        n.link.start()
        wait_until(lambda: n.acker.stored == [0], 30)
        assert abs(n.acker.batches[0].captured_at - (made - 10_800.0)) < 5
    finally:
        n.close()
