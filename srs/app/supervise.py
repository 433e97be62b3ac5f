"""Run SRS components as child processes with one stop path (used by `srs demo`).

Children run in their own session so a terminal's Ctrl-C reaches only the
supervisor, which then stops them in reverse start order: SIGTERM, a grace period,
then SIGKILL. Nothing is left running when the supervisor's context exits, nor
when the supervisor is killed outright: each child gets SIGTERM then
(srs.app.with_parent).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] = field(repr=False)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """Starts `srs ...` children, watches them, and stops them all on exit."""

    def __init__(
        self, log_dir: Path, env: dict[str, str] | None = None, grace_s: float = 10.0
    ) -> None:
        self.log_dir = log_dir
        self.base_env = dict(os.environ if env is None else env)
        self.grace_s = grace_s
        self.children: list[Child] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Start ``srs ARGS...`` (same interpreter) with extra environment ``env``."""
        return self.start_command(name, [sys.executable, "-m", "srs.app", *args], env)

    def start_command(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        # The child ends when this process does, even when it is killed outright and
        # stops nothing itself (srs.app.with_parent).
        guarded = [sys.executable, "-m", "srs.app.with_parent", str(os.getpid()), *cmd]
        process = subprocess.Popen(
            guarded if sys.platform.startswith("linux") else cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**self.base_env, **(env or {})},
            start_new_session=True,
        )
        child = Child(name, process, log_path, log_file)
        self.children.append(child)
        log.info("started %s (pid %d), log: %s", name, process.pid, log_path)
        return child

    def failed(self) -> list[Child]:
        """Children that exited on their own (any exit during a run is a failure)."""
        return [c for c in self.children if not c.running]

    def stop(self, child: Child) -> int | None:
        if child.running:
            child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(self.grace_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", child.name, self.grace_s)
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(5)
        # A child's own children (e.g. encoder workers) share its session: reap them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child._log_file.close()
        return child.process.returncode

    def stop_all(self) -> dict[str, int | None]:
        codes = {}
        for child in reversed(self.children):
            codes[child.name] = self.stop(child)
        return codes

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def wait_for(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
