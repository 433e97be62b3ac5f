"""Closing a connection that has gone silent, with one timer per connection.

amqtt 0.12.1 enforces the keepalive by wrapping every packet read in
``asyncio.wait_for(..., keepalive)``. On Python 3.11 that creates a task and a timer
for each packet, an event-loop turn on the path of every message, and amqtt also
re-arms a write timer after each packet it sends, for a handler that does nothing.
The SRS handler reads without a timeout instead and :class:`SilenceWatch` checks, once
per ``limit_s``, when the client was last heard; the timer is re-armed only for the
time that is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SilenceWatch:
    """Calls ``on_silent`` once nothing was heard for ``limit_s`` (``last_heard``: the
    loop time of the last read that returned data)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit_s: float,
        last_heard: Callable[[], float],
        on_silent: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._limit_s = limit_s
        self._last_heard = last_heard
        self._on_silent = on_silent
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._timer = self._loop.call_later(self._limit_s, self._check)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        quiet = self._loop.time() - self._last_heard()
        if quiet >= self._limit_s:
            self._timer = None
            self._on_silent()
        else:
            self._timer = self._loop.call_later(self._limit_s - quiet, self._check)
