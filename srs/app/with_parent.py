"""Run a command that ends when its parent does: ``python -m srs.app.with_parent PID CMD...``.

`srs demo` (and the fault suite) start their children in new sessions, so a Ctrl-C
in the terminal reaches only the supervisor, which stops them in order. But a
supervisor killed outright (``kill -9``, the OOM killer) stopped nothing: its broker,
core and cameras ran on (issue 21). This asks Linux to send SIGTERM to the process
when its parent dies (``PR_SET_PDEATHSIG``, kept across ``exec``), checks that the
parent ``PID`` has not died already, and then *becomes* the command (``execvp``: same
pid, so the supervisor's handle on it stays right). SIGTERM is each SRS command's
clean stop. Elsewhere than Linux it only runs the command.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Have ``sig`` sent to this process when its parent dies (Linux; else nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before we asked: nobody will tell us
        os.kill(os.getpid(), sig)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m srs.app.with_parent PARENT_PID COMMAND [ARG...]", file=sys.stderr)
        return 2
    die_with_parent(int(argv[0]))
    os.execvp(argv[1], argv[1:])
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
