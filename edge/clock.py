"""The node's wall clock against its boot clock: how a clock step is seen locally.

``clock_base`` is the wall clock minus the boot clock (CLOCK_BOOTTIME: it counts
suspend too, and neither it nor the wall clock changes its rate differently under
NTP slewing), so it stays constant until someone *steps* the wall clock (NTP fixing a
wrong clock, an operator's ``date -s``). Two bases taken in the same boot differ by
exactly the steps between them: the outbox re-times a message by that, and the link
re-sends what core refused for the clock at once instead of after a back-off.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
STEP_MIN_S = 1.0  # smaller changes of the base are scheduling noise, not steps


def boot_clock() -> float:
    """Seconds since boot, suspend included where the platform can say."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


def clock_base(wall: Callable[[], float] | None = None) -> float:
    return wall_and_base(wall)[1]


def wall_and_base(wall: Callable[[], float] | None = None) -> tuple[float, float]:
    """The wall clock now, and the clock base that goes with that very reading.

    Taken from one reading, the two agree even when the clock is stepped right
    between the calls: a frame stamped with this base is re-timed by exactly the
    steps after its stamp, including one that comes before its message is queued.
    """
    now = (wall or time.time)()  # looked up at each call, not bound: a test may move it
    return now, now - boot_clock()


def boot_id() -> int:
    """This boot, as a number that fits SQLite's INTEGER (0 where unknown)."""
    try:
        text = _BOOT_ID.read_text().strip()
    except OSError:
        return 0
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "big")


class StepWatch:
    """``step()``: how far the wall clock was stepped since the last call (0.0 if not)."""

    def __init__(self, wall: Callable[[], float] | None = None) -> None:
        self._wall = wall
        self._base = clock_base(wall)

    def step(self) -> float:
        base = clock_base(self._wall)
        delta = base - self._base
        if abs(delta) < STEP_MIN_S:
            return 0.0
        self._base = base
        return delta
