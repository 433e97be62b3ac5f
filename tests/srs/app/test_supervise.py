"""The supervisor stops its children, including ones that ignore SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path

from srs.app.supervise import Supervisor, wait_for


def test_children_are_logged_and_exits_noticed(tmp_path: Path) -> None:
    with Supervisor(tmp_path, grace_s=1.0) as sup:
        child = sup.start("version", ["--version"])
        assert wait_for(lambda: not child.running, 30)
        assert "srs" in child.tail()
        assert sup.failed() == [child]
    assert child.process.returncode == 0


def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    with Supervisor(tmp_path, grace_s=0.5) as sup:
        child = sup.start_command("stubborn", [sys.executable, "-u", "-c", code])
        assert wait_for(lambda: "ready" in child.tail(), 30)
    assert child.process.returncode is not None and not child.running
