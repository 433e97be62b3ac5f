"""edge.clock: a step of the wall clock is seen against the boot clock."""

from __future__ import annotations

import pytest

from edge import clock
from edge.clock import STEP_MIN_S, StepWatch, boot_clock, clock_base, wall_and_base


class SteppedWall:
    """A wall clock that runs with the boot clock, offset by what a test steps it by."""

    def __init__(self, offset: float = 1_700_000_000.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return boot_clock() + self.offset


def test_the_base_is_the_wall_clock_minus_the_boot_clock() -> None:
    wall = SteppedWall(5000.0)
    assert clock_base(wall) == pytest.approx(5000.0, abs=0.1)


def test_a_reading_and_its_base_come_from_one_wall_reading() -> None:
    readings = iter([1_000.0, 1_000.0 - 10_800.0])  # a step right after the first read
    now, base = wall_and_base(lambda: next(readings))
    assert now == 1_000.0
    assert base == pytest.approx(1_000.0 - boot_clock(), abs=0.1)


def test_an_unstepped_clock_reports_no_step() -> None:
    watch = StepWatch(SteppedWall())
    assert watch.step() == 0.0
    assert watch.step() == 0.0


@pytest.mark.parametrize("by", [3600.0, -7200.0, 2.5])
def test_a_step_is_reported_once_with_its_size_and_sign(by: float) -> None:
    wall = SteppedWall()
    watch = StepWatch(wall)
    wall.offset += by
    assert watch.step() == pytest.approx(by, abs=0.1)
    assert watch.step() == 0.0  # the new base is the reference now


def test_a_change_below_the_threshold_is_noise_and_keeps_the_old_reference() -> None:
    wall = SteppedWall()
    watch = StepWatch(wall)
    wall.offset += STEP_MIN_S * 0.6
    assert watch.step() == 0.0
    wall.offset += STEP_MIN_S * 0.6  # two small moves add up to one step
    assert watch.step() == pytest.approx(STEP_MIN_S * 1.2, abs=0.1)


def test_boot_id_is_a_stable_sqlite_integer(tmp_path, monkeypatch) -> None:
    path = tmp_path / "boot_id"
    path.write_text("0d3c5a43-5a21-4c2e-9d6e-1f0b8e4f2a77\n")
    monkeypatch.setattr(clock, "_BOOT_ID", path)
    first = clock.boot_id()
    assert first == clock.boot_id()
    assert 0 < first < 2**63
    path.write_text("a-different-boot\n")
    assert clock.boot_id() != first


def test_boot_id_is_zero_where_the_platform_cannot_say(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(clock, "_BOOT_ID", tmp_path / "missing")
    assert clock.boot_id() == 0
