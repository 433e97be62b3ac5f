"""One way for a test to wait for something another thread or process will do.

The timeout bounds how long a failing test hangs, nothing more: a test never asserts
that something happened *quickly* (speed is measured by the benchmarks in bench/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition did not become true",
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy,
    and return that. After ``timeout`` seconds (checking one last time) raise
    AssertionError with ``message`` (a callable is asked only then, so it can describe
    the state at the failure, e.g. a log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    text = message() if callable(message) else message
    raise AssertionError(f"{text} (waited {timeout} s)")
