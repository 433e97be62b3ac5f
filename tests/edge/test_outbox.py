"""The outbox: persistence, order, acks, bounds, crash recovery (real SQLite files)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

from edge.outbox import Outbox


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def payload(seq: int) -> str:
    return json.dumps({"seq": seq})


def test_sequence_numbers_persist_and_keep_growing(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with Outbox(path) as box:
        assert [box.add(payload) for _ in range(3)] == [0, 1, 2]
        box.ack([0, 1, 2])
        assert box.depth == 0
    with Outbox(path) as box:  # empty after acks, yet the counter continues
        assert box.add(payload) == 3
        assert box.due(ack_timeout_s=10, limit=10) == [(3, payload(3))]


def test_due_in_order_window_and_timeout(tmp_path: Path) -> None:
    clock = Clock()
    with Outbox(tmp_path / "o.db", clock=clock) as box:
        for _ in range(5):
            box.add(payload)
        first = box.due(ack_timeout_s=10, limit=3)
        assert [s for s, _ in first] == [0, 1, 2]
        box.mark_sent([0, 1, 2])
        assert box.due(ack_timeout_s=10, limit=3) == []  # window full
        assert [s for s, _ in box.due(ack_timeout_s=10, limit=5)] == [3, 4]
        box.ack([1])
        assert [s for s, _ in box.due(ack_timeout_s=10, limit=3)] == [3]
        clock.now += 11  # ack timeout: the unacknowledged ones go again, in order
        assert [s for s, _ in box.due(ack_timeout_s=10, limit=10)] == [0, 2, 3, 4]


def test_reset_after_reconnect_resends_everything_in_order(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        for _ in range(4):
            box.add(payload)
        box.mark_sent([0, 1, 2, 3])
        box.ack([2])
        box.reset_sent()
        assert [s for s, _ in box.due(ack_timeout_s=60, limit=10)] == [0, 1, 3]


def test_ack_removes_and_ignores_unknown(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        box.add(payload)
        assert box.ack([0, 7]) == 1
        assert box.ack([0]) == 0
        assert box.depth == 0


def test_bounds_drop_oldest_and_count(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "o.db"
    with Outbox(path, max_messages=10, max_age_s=100, clock=clock) as box:
        for _ in range(13):
            box.add(payload)
        assert box.depth == 10
        assert box.dropped == 3
        assert box.due(ack_timeout_s=1, limit=1)[0][0] == 3  # the oldest went first
        clock.now += 101
        box.add(payload)  # everything older than max_age goes
        assert box.depth == 1
        assert box.dropped == 13
    with Outbox(path, max_messages=10, max_age_s=100, clock=clock) as box:
        assert box.dropped == 13  # the drop count survives a restart


def _write_then_die(path: str, n: int) -> None:
    box = Outbox(Path(path))
    for _ in range(n):
        box.add(payload)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no cleanup


def test_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    proc = multiprocessing.get_context("spawn").Process(target=_write_then_die, args=(str(path), 5))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    with Outbox(path) as box:
        assert box.depth == 5
        assert [json.loads(p)["seq"] for _, p in box.due(ack_timeout_s=1, limit=10)] == [
            0,
            1,
            2,
            3,
            4,
        ]
        assert box.add(payload) == 5


def test_meta_values_persist(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        box.add(payload, meta={"next_track_id": 42})
    with Outbox(tmp_path / "o.db") as box:
        assert box.get_meta("next_track_id", 1) == 42
        assert box.get_meta("missing", 7) == 7
