"""Back-pressure between capture and analysis: never more than one frame waits."""

from __future__ import annotations

import threading

import numpy as np

from edge.node import FrameSlot
from edge.sources import Frame


def frame(i: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), float(i), i)


def test_live_slot_keeps_the_newest_and_counts_skips() -> None:
    slot, stop = FrameSlot(live=True), threading.Event()
    for i in range(5):
        slot.put(frame(i), stop)
    got, ended = slot.get(0.01)
    assert got is not None and got.index == 4 and not ended
    assert slot.skipped == 4
    assert slot.get(0.01) == (None, False)
    slot.end()
    assert slot.get(0.01) == (None, True)


def test_max_fps_skips_frames_arriving_too_soon() -> None:
    slot, stop = FrameSlot(live=True, max_fps=0.001), threading.Event()
    slot.put(frame(0), stop)
    slot.put(frame(1), stop)  # within 1000 s of the last accepted frame
    got, _ = slot.get(0.01)
    assert got is not None and got.index == 0 and slot.skipped == 1


def test_finite_slot_waits_instead_of_skipping() -> None:
    slot, stop = FrameSlot(live=False), threading.Event()
    taken: list[int] = []

    def consume() -> None:
        while True:
            got, ended = slot.get(1.0)
            if got is not None:
                taken.append(got.index)
            if ended:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(20):
        slot.put(frame(i), stop)
    slot.end()
    consumer.join(10)
    assert taken == list(range(20)) and slot.skipped == 0
