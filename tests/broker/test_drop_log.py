"""broker.drop_log: drops from session queues are logged once a minute, not per message."""

from __future__ import annotations

import logging

import pytest

from broker.drop_log import DropLog
from broker.session_queue import Pending, QueueBound, SessionQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_thousand_drops_make_two_lines_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    drops = DropLog(60.0, clock)
    queue = SessionQueue("core", QueueBound(max_messages=5, max_bytes=10**6))
    caplog.set_level(logging.WARNING, logger="broker.session_queue")
    for n in range(1005):
        dropped = queue.put(Pending("t", b"%d" % n, 1))
        if dropped:
            drops.note(queue, dropped)
        clock.now += 0.05  # 50 s in all
    assert drops.lines == 1  # the first drop, at once
    drops.flush()
    assert drops.lines == 1  # not a minute yet
    clock.now += 15
    drops.flush()
    assert drops.lines == 2
    first, summary = (r.getMessage() for r in caplog.records)
    assert "'core' 1 (" in first
    assert "'core' 999 (" in summary and "1000 dropped in all" in summary
    assert "5 messages" in summary and "in the last 65 s" in summary


def test_flush_without_drops_writes_nothing() -> None:
    drops = DropLog(60.0, Clock())
    drops.flush(force=True)
    assert drops.lines == 0
