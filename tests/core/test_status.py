"""Burst-limited logs (core/status.py): one line, then one summary per window."""

from __future__ import annotations

import logging

from core.status import RepeatLog


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
