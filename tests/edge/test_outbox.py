"""The outbox: persistence, order, acks, bounds, crash recovery (real SQLite files)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
from pathlib import Path

from edge.outbox import Due, Outbox


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
        assert box.due(ack_timeout_s=10, limit=10) == [Due(3, payload(3))]


def test_due_in_order_window_and_timeout(tmp_path: Path) -> None:
    clock = Clock()
    with Outbox(tmp_path / "o.db", clock=clock) as box:
        for _ in range(5):
            box.add(payload)
        first = box.due(ack_timeout_s=10, limit=3)
        assert [d.seq for d in first] == [0, 1, 2]
        box.mark_sent([0, 1, 2])
        assert box.due(ack_timeout_s=10, limit=3) == []  # window full
        assert [d.seq for d in box.due(ack_timeout_s=10, limit=5)] == [3, 4]
        box.ack([1])
        assert [d.seq for d in box.due(ack_timeout_s=10, limit=3)] == [3]
        clock.now += 11  # ack timeout: the unacknowledged ones go again, in order
        assert [d.seq for d in box.due(ack_timeout_s=10, limit=10)] == [0, 2, 3, 4]


def test_reset_after_reconnect_resends_everything_in_order(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        for _ in range(4):
            box.add(payload)
        box.mark_sent([0, 1, 2, 3])
        box.ack([2])
        box.reset_sent()
        assert [d.seq for d in box.due(ack_timeout_s=60, limit=10)] == [0, 1, 3]


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
        assert box.due(ack_timeout_s=1, limit=1)[0].seq == 3  # the oldest went first
        clock.now += 101
        box.add(payload)  # everything older than max_age goes
        assert box.depth == 1
        assert box.dropped == 13
    with Outbox(path, max_messages=10, max_age_s=100, clock=clock) as box:
        assert box.dropped == 13  # the drop count survives a restart


def test_drops_count_only_what_was_never_stored(tmp_path: Path) -> None:
    """A dropped message that was sent may have been stored: its late ack uncounts it."""
    clock = Clock()
    with Outbox(tmp_path / "o.db", max_age_s=100, clock=clock) as box:
        box.add(payload)
        box.mark_sent([0])
        clock.now += 101
        box.add(payload)  # 0 is too old now: it goes
        assert (box.dropped, box.depth) == (1, 1)
        assert box.ack([0]) == 0  # ...but core had stored it
        assert box.dropped == 0
        assert box.ack([0]) == 0  # a second copy of that ack changes nothing
        assert box.dropped == 0


def test_a_full_outbox_of_sent_messages_drops_the_new_one(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", max_messages=3) as box:
        for _ in range(3):
            box.add(payload)
        box.mark_sent([0, 1, 2])  # all in flight: any of them may be stored already
        box.add(payload)  # the only one surely not stored is the new one
        assert [d.seq for d in box.due(ack_timeout_s=-1, limit=10)] == [0, 1, 2]
        assert box.dropped == 1


def test_bound_takes_never_sent_messages_first(tmp_path: Path) -> None:
    """Messages already sent go again first after a reconnect: new ones do not push
    them out before they do."""
    with Outbox(tmp_path / "o.db", max_messages=4) as box:
        for _ in range(4):
            box.add(payload)
        box.mark_sent([0, 1])
        box.reset_sent()  # the broker came back: 0 and 1 are due again
        box.add(payload)
        box.add(payload)
        assert [d.seq for d in box.due(ack_timeout_s=10, limit=10)] == [0, 1, 4, 5]
        assert box.dropped == 2  # 2 and 3: never sent, so surely not stored


def test_refused_messages_wait_outside_the_window(tmp_path: Path) -> None:
    clock = Clock()
    with Outbox(tmp_path / "o.db", clock=clock) as box:
        for _ in range(3):
            box.add(payload)
        box.mark_sent([0, 1, 2])
        box.retry_later([0, 1], 2.0)  # core could not store them: again in 2 s
        assert box.due(ack_timeout_s=60, limit=1) == []  # 2 is still in flight
        assert box.due(ack_timeout_s=60, limit=2) == []  # 0 and 1 wait for their time
        clock.now += 2.0
        assert [d.seq for d in box.due(ack_timeout_s=60, limit=3)] == [0, 1]
        box.retry_later([0], 100.0)
        box.reset_sent()  # a reconnect (or a fixed clock) sends everything now
        assert [d.seq for d in box.due(ack_timeout_s=60, limit=3)] == [0, 1, 2]


def test_given_up_messages_are_counted_apart(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        for _ in range(3):
            box.add(payload)
        assert box.give_up([0, 1, 9]) == 2
        assert (box.refused, box.dropped, box.depth) == (2, 0, 1)


def test_a_clock_step_since_a_message_was_made_is_reported(tmp_path: Path) -> None:
    clock = Clock()
    base = [5_000.0]  # wall clock minus boot clock: moves only when the clock is stepped
    with Outbox(tmp_path / "o.db", clock=clock, base=lambda: base[0]) as box:
        box.add(payload)
        base[0] -= 10_800.0  # NTP sets a clock that was 3 h ahead right
        box.add(payload)
        first, second = box.due(ack_timeout_s=60, limit=10)
        assert (first.clock_step_s, second.clock_step_s) == (-10_800.0, 0.0)
        base[0] += 0.2  # scheduling noise is no step
        assert box.newest() == Due(1, payload(1), 0.0)


def test_a_step_between_a_frame_s_stamp_and_its_queueing_is_counted(tmp_path: Path) -> None:
    """The frame was stamped before NTP stepped the clock back 3 h, and queued after
    (it waited for its encodings): with the frame's own base, the message is re-timed
    by the step once sent; with the base at queueing it never would be, and core
    would refuse it for good as 3 h in the future (the CI flake of 2026-11-30)."""
    clock = Clock()
    base = [5_000.0]
    with Outbox(tmp_path / "o.db", clock=clock, base=lambda: base[0]) as box:
        stamped = base[0]
        base[0] -= 10_800.0  # stepped while the frame waited
        box.add(payload, clock_base=stamped)
        base[0] += 10_800.0  # and set right again
        (due,) = box.due(ack_timeout_s=60, limit=10)
        assert due.clock_step_s == 0.0  # its time was right all along


def test_an_outbox_of_an_older_node_opens(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, created_at REAL NOT NULL, "
            "payload TEXT NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0);"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        )
        db.execute("INSERT INTO outbox(seq, created_at, payload) VALUES(0, 1.0, '{}')")
    with Outbox(path) as box:
        assert box.due(ack_timeout_s=10, limit=10) == [Due(0, "{}", 0.0)]
        assert box.add(payload) == 1


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
        assert [json.loads(d.payload)["seq"] for d in box.due(ack_timeout_s=1, limit=10)] == [
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
