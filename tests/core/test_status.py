"""Burst-limited logs (core/status.py): one line, then one summary per window."""

from __future__ import annotations

import logging

from core.shared_counters import Snapshot
from core.status import Counters, RepeatLog


def test_a_repeating_error_is_one_line_then_a_summary(caplog):
    now = [0.0]
    say = RepeatLog(logging.getLogger("test.repeat"), window_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "test.repeat"):
        for _ in range(1000):  # a full disk, every tick
            say("purge failed", logging.ERROR, "purge failed: %s", "disk full")
            now[0] += 0.1
        assert say("other", logging.WARNING, "something else")  # its own key
        now[0] += 60.0
        say.flush()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "purge failed: disk full"
    assert "purge failed: 999 more time(s) in the last 60 s" not in lines  # windows roll
    summaries = [x for x in lines if "more time(s)" in x]
    assert len(lines) <= 5 and summaries and lines.count("something else") == 1
    assert sum(int(x.split(": ")[1].split()[0]) for x in summaries) + 2 == 1000


def test_the_status_adds_the_other_instances_counters_to_its_own() -> None:
    counters = Counters()
    counters.add(received=2, accepted=1)
    counters.reject("stale")
    counters.latency(0.010)
    counters.set_peers(
        [Snapshot(received=5, accepted=5, rejected={"stale": 2, "bad_signature": 1})]
    )
    got = counters.status("online", 5.0, now=1.0)
    assert (got.received, got.accepted) == (7, 6)
    assert got.rejected == {"stale": 3, "bad_signature": 1}
    assert got.latency_p50_ms is not None and abs(got.latency_p50_ms - 10.0) < 1e-6  # own only
    assert counters.snapshot() == Snapshot(received=2, accepted=1, rejected={"stale": 1})
    counters.set_peers([])
    assert counters.status("online", 5.0, now=1.0).received == 2
