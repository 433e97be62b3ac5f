"""systemd's notify protocol (sd_notify), without a dependency.

A ``Type=notify`` unit starts a service with ``$NOTIFY_SOCKET`` (a unix datagram
socket, ``@`` for the abstract namespace) and, with ``WatchdogSec=``, with
``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``). The service says ``READY=1`` once it
serves, ``STOPPING=1`` when it begins to stop, and ``WATCHDOG=1`` at least once per
watchdog interval; systemd kills and restarts a service that stops saying it.

Each service calls :meth:`Notifier.alive` from the loop that does its work (core's
worker after each batch, the broker's event loop, the camera node's analysis loop),
never from a timer thread: a stuck loop then stops the keep-alives, which is the
point. ``alive`` is cheap enough for a hot loop: it sends at most three datagrams
per watchdog interval. Without ``$NOTIFY_SOCKET`` (a terminal, a test, another init
system) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_s = _watchdog_s(env)
        self._clock = clock
        self._next_alive = 0.0
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; True when it was sent."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(lines).encode(), self.address)
            return True
        except OSError as exc:
            if not self._warned:  # once: a dead socket must not flood the log
                self._warned = True
                log.warning("could not notify systemd at %r: %s", self.address, exc)
            return False

    def ready(self, status: str | None = None) -> bool:
        self._next_alive = 0.0
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def alive(self) -> None:
        """Feed the watchdog (from the working loop); rate-limited to a third of the
        interval, so a slow iteration still leaves two chances before systemd acts."""
        if self.watchdog_s is None or self.address is None:
            return
        now = self._clock()
        if now >= self._next_alive:
            self._next_alive = now + self.watchdog_s / 3
            self.send("WATCHDOG=1")


def _address(raw: str) -> str | bytes | None:
    if not raw:
        return None
    if raw.startswith("@"):  # abstract namespace: a leading NUL byte
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    return None  # vsock and other forms: not for us


def _watchdog_s(env: Mapping[str, str]) -> float | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
        pid = int(env.get("WATCHDOG_PID", "0") or 0)
    except ValueError:
        return None
    if usec <= 0 or (pid and pid != os.getpid()):
        return None  # no watchdog, or it is meant for another process
    return usec / 1_000_000
