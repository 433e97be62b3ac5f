"""srs.backoff: doubling, capped, jittered within its share, reset after a success."""

from __future__ import annotations

import random

import pytest

from srs.backoff import Backoff


def test_without_jitter_the_delays_double_up_to_the_cap() -> None:
    b = Backoff(first_s=0.5, max_s=5.0, jitter=0.0)
    assert [b.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    b.reset()
    assert b.next_delay() == 0.5


def test_jitter_stays_within_its_share_of_the_nominal_delay() -> None:
    b = Backoff(first_s=1.0, max_s=1.0, jitter=0.2, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(200)]
    assert all(0.8 <= d <= 1.2 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # clients do not retry in lockstep


@pytest.mark.parametrize(
    ("first_s", "max_s", "factor", "jitter"),
    [(0.0, 5.0, 2.0, 0.2), (6.0, 5.0, 2.0, 0.2), (0.5, 5.0, 0.5, 0.2), (0.5, 5.0, 2.0, 1.0)],
)
def test_a_schedule_that_makes_no_sense_is_refused(
    first_s: float, max_s: float, factor: float, jitter: float
) -> None:
    with pytest.raises(ValueError, match="not a back-off schedule"):
        Backoff(first_s, max_s, factor, jitter)
