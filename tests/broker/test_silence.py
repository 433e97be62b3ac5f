"""broker.silence: one timer per connection, re-armed only for the time that is left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from broker.silence import SilenceWatch


@dataclass
class Timer:
    at: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """time() and call_later() of an event loop, driven by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        self.timers.append(Timer(self.now + delay, callback))
        return self.timers[-1]

    def run_until(self, t: float) -> None:
        while due := [x for x in self.timers if not x.cancelled and x.at <= t]:
            timer = min(due, key=lambda x: x.at)
            timer.cancelled = True  # ran
            self.now = timer.at
            timer.callback()
        self.now = t


def watch(loop: FakeLoop, last_heard: Callable[[], float], silent: list[float]) -> SilenceWatch:
    fake: Any = loop  # duck-typed: SilenceWatch uses time() and call_later() only
    return SilenceWatch(fake, 45.0, last_heard, lambda: silent.append(loop.now))


def test_a_client_heard_in_time_stays_and_a_silent_one_is_called_out() -> None:
    loop = FakeLoop()
    heard = [0.0]
    silent: list[float] = []
    w = watch(loop, lambda: heard[0], silent)
    w.start()
    heard[0] = 30.0  # a packet at 30 s: the check at 45 s re-arms for 30 s more
    loop.run_until(74.0)
    assert silent == []
    loop.run_until(100.0)
    assert silent == [75.0]
    assert len(loop.timers) == 2  # one timer per period, never one per packet


def test_a_cancelled_watch_never_calls() -> None:
    loop = FakeLoop()
    silent: list[float] = []
    w = watch(loop, lambda: 0.0, silent)
    w.start()
    w.cancel()
    loop.run_until(1000.0)
    assert silent == []
