"""The motion gate on synthetic frames (pure geometry)."""

from __future__ import annotations

import numpy as np

from edge.motion import NOTHING, MotionGate


def blank() -> np.ndarray:
    return np.full((360, 640), 100, np.uint8)


def test_first_scan_and_every_nth_are_complete() -> None:
    gate = MotionGate(complete_every=3)
    results = [gate.region(blank()) for _ in range(7)]
    assert [r is None for r in results] == [True, False, False, True, False, False, True]
    assert results[1] == NOTHING  # nothing changed: only tracks are looked at


def test_region_covers_the_change_with_a_margin() -> None:
    gate = MotionGate(complete_every=100)
    gate.region(blank())
    moved = blank()
    moved[200:240, 300:340] = 255  # something appeared here
    x, y, w, h = gate.region(moved) or NOTHING
    assert x <= 300 and y <= 200 and x + w >= 340 and y + h >= 240
    assert w * h < 0.2 * 640 * 360


def test_large_change_means_a_complete_scan() -> None:
    gate = MotionGate(complete_every=100)
    gate.region(blank())
    assert gate.region(np.zeros((360, 640), np.uint8)) is None


def test_disabled_gate_always_scans_everything() -> None:
    gate = MotionGate(enabled=False)
    assert all(gate.region(blank()) is None for _ in range(4))
