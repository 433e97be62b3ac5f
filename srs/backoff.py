"""Capped exponential back-off with jitter: the one schedule every retry loop uses.

Why capped low (seconds, not 30): a broker restart or a camera's outage ends in
seconds, and with a 30 s cap core and the edges came back up to 30 s after the fault
was over. Why jitter: every camera of a site loses the broker at the same moment;
without it they all reconnect in the same instant, again and again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``next_delay()`` gives first_s, then x factor each call, at most max_s, each
    varied by +/- ``jitter`` (a share); ``reset()`` after a success."""

    first_s: float = 0.5
    max_s: float = 5.0
    factor: float = 2.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random, repr=False)
    _nominal: float = field(init=False)

    def __post_init__(self) -> None:
        if not 0 < self.first_s <= self.max_s or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError(
                f"not a back-off schedule: first_s={self.first_s}, max_s={self.max_s}, "
                f"factor={self.factor}, jitter={self.jitter}"
            )
        self._nominal = self.first_s

    @property
    def upcoming_s(self) -> float:
        """The nominal next delay (for a log line said before waiting)."""
        return self._nominal

    def next_delay(self) -> float:
        delay = self._nominal * (1 + self.rng.uniform(-self.jitter, self.jitter))
        self._nominal = min(self._nominal * self.factor, self.max_s)
        return delay

    def reset(self) -> None:
        self._nominal = self.first_s
