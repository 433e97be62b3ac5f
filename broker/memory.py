"""Give the heap a backlog used back to the system once the backlog has drained.

A session queue of 20,000 camera messages holds ~40 MB of payloads. Python frees
them when they are delivered, but glibc's allocator keeps the freed pages in the
process: measured with bench/backlog.py, the broker stayed at 95 MB after the
catch-up against 51 MB idle. ``malloc_trim(0)`` returns the free pages; it costs a
few milliseconds, so :class:`HeapTrim` calls it only when what the queues held has
fallen from a high mark (at least ``threshold`` bytes) to under a quarter of the
threshold, i.e. once per drained backlog. Without glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

TRIM_THRESHOLD_BYTES = 2 * 1024 * 1024


def _glibc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrim:
    def __init__(
        self,
        threshold: int = TRIM_THRESHOLD_BYTES,
        trim: Callable[[], object] | None = None,
    ) -> None:
        self.threshold = threshold
        self._trim = trim if trim is not None else _glibc_trim()
        self._high = 0
        self.trims = 0

    def observe(self, held_bytes: int) -> bool:
        """What the queues hold now; True if the heap was trimmed."""
        self._high = max(self._high, held_bytes)
        if self._high < self.threshold or held_bytes > self.threshold // 4:
            return False
        self._high = held_bytes
        if self._trim is None:
            return False
        self._trim()
        self.trims += 1
        log.debug("backlog drained: freed heap returned to the system")
        return True
