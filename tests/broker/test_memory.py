"""broker.memory: the heap is trimmed once per drained backlog, not on every tick."""

from __future__ import annotations

from broker.memory import HeapTrim


def test_trims_once_when_a_large_backlog_has_drained() -> None:
    calls: list[int] = []
    trim = HeapTrim(threshold=1000, trim=lambda: calls.append(1))
    held = [0, 500, 5000, 40_000, 20_000, 2_000, 200, 0, 0, 100, 0]
    done = [trim.observe(n) for n in held]
    assert done == [False] * 6 + [True] + [False] * 4
    assert calls == [1] and trim.trims == 1


def test_a_small_queue_never_trims() -> None:
    trim = HeapTrim(threshold=1000, trim=lambda: None)
    assert not any(trim.observe(n) for n in [0, 900, 0, 999, 0])


def test_the_next_backlog_trims_again() -> None:
    trim = HeapTrim(threshold=1000, trim=lambda: None)
    for n in [5000, 0, 5000, 0]:
        trim.observe(n)
    assert trim.trims == 2


def test_glibc_trim_is_found_here() -> None:
    # The build machine runs glibc: the real trim must be available (and harmless).
    trim = HeapTrim(threshold=1)
    trim.observe(10)
    assert trim.observe(0)
