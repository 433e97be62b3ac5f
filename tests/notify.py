"""A stand-in for systemd's notify socket: bind it, pass ``env()`` to a service, and
read the datagrams the service sends (READY=1, WATCHDOG=1, STOPPING=1...)."""

from __future__ import annotations

import contextlib
import queue
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType


class NotifySocket:
    def __init__(self) -> None:
        # A short path: unix socket paths are limited to 107 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="srs-notify-", dir="/tmp"))
        self.path = self._dir / "notify"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.1)
        self.received: queue.Queue[tuple[float, str]] = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def env(self, watchdog_s: float | None = None) -> dict[str, str]:
        env = {"NOTIFY_SOCKET": str(self.path)}
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1_000_000))
        return env

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode().splitlines():
                self.received.put((time.monotonic(), line))

    def wait_for(self, line: str, timeout: float = 20.0) -> float:
        """The time ``line`` arrived (skipping others); AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, got = self.received.get(timeout=left)
            except queue.Empty:
                break
            if got == line:
                return at
        raise AssertionError(f"no {line} within {timeout} s")

    def next_lines(self, n: int, then_s: float = 0.3, timeout: float = 20.0) -> list[str]:
        """The next ``n`` lines (waiting up to ``timeout``), plus any arriving within
        ``then_s`` after them: a test that counts what was sent sees every line."""
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while len(lines) < n and (left := deadline - time.monotonic()) > 0:
            try:
                lines.append(self.received.get(timeout=left)[1])
            except queue.Empty:
                break
        time.sleep(then_s)
        return lines + self.drain()

    def lines_during(self, seconds: float) -> list[str]:
        """Every line that arrives in the next ``seconds`` (after dropping older ones)."""
        self.drain()
        time.sleep(seconds)
        return self.drain()

    def drain(self) -> list[str]:
        lines = []
        while True:
            try:
                lines.append(self.received.get_nowait()[1])
            except queue.Empty:
                return lines

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._sock.close()
        with contextlib.suppress(OSError):
            shutil.rmtree(self._dir)

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
