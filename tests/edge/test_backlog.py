"""What goes again after core refuses (pure logic: a real outbox, no broker)."""

from __future__ import annotations

import time
from pathlib import Path

from edge.backlog import Backlog
from edge.config import EdgeConfig
from edge.hearing import Hearing
from edge.outbox import Outbox
from srs.wire.payloads import DetectionBatch, Refusal

HOUR = 3600.0


def message(seq: int) -> str:
    return DetectionBatch(
        camera_id="cam1",
        seq=seq,
        captured_at=round(time.time(), 3),
        frame_width=64,
        frame_height=48,
        detections=[],
    ).model_dump_json()


def backlog(tmp_path: Path, hearing: Hearing) -> tuple[Backlog, Outbox]:
    outbox = Outbox(tmp_path / "outbox.db")
    for _ in range(3):
        outbox.add(message)
    ecfg = EdgeConfig(camera_id="cam1", ack_timeout_s=HOUR)
    return Backlog(outbox, ecfg, hearing, allowed_skew_s=5.0), outbox


def sent(b: Backlog, outbox: Outbox) -> list[int]:
    due = b.next()
    outbox.mark_sent([d.seq for d in due])
    return [d.seq for d in due]


def test_an_expired_copy_refused_while_our_clock_is_right_goes_again_at_once(
    tmp_path: Path,
) -> None:
    """Core, back after its messages expired in the broker's queue, cannot yet tell a
    queued copy from a clock behind; our clock, measured on its live heartbeat, is
    right: signed again now, the copies are in time, so they go at once."""
    hearing = Hearing(allowed_skew_s=5.0, not_heard_after_s=30.0)
    now = time.time()
    hearing.core_status("online", now, 2.0, now, live=True)  # our clock agrees with core's
    b, outbox = backlog(tmp_path, hearing)
    try:
        assert sent(b, outbox) == [0, 1, 2]
        refusal = Refusal(reason="clock_behind", message="clock 23 s behind", clock_offset_s=-23.0)
        b.refused([0, 1], refusal)
        assert b.holding is None
        assert sent(b, outbox) == [0, 1]  # not after a back-off
    finally:
        outbox.close()


def test_an_expired_copy_refused_before_our_clock_was_measured_holds(tmp_path: Path) -> None:
    """No live heartbeat yet: core's measure of the copy, just signed, is all we know
    and says our clock is behind: the backlog is held behind a probe."""
    hearing = Hearing(allowed_skew_s=5.0, not_heard_after_s=30.0)
    b, outbox = backlog(tmp_path, hearing)
    try:
        assert sent(b, outbox) == [0, 1, 2]
        refusal = Refusal(reason="clock_behind", message="clock 3 h behind", clock_offset_s=-HOUR)
        b.refused([0, 1, 2], refusal)
        assert b.holding == "clock"
        assert sent(b, outbox) == []  # the probe waits its back-off
    finally:
        outbox.close()
