"""A supervised child ends when its supervisor is killed outright (srs.app.with_parent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.procs import alive
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


def test_children_of_a_killed_supervisor_get_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    supervisor = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from srs.app.supervise import Supervisor
        sup = Supervisor(Path({str(tmp_path / "logs")!r}))
        child = sup.start_command("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(child.process.pid))
        time.sleep(120)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", supervisor], env=env)
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), 60)
        child = int(pid_file.read_text())
        wait_until(lambda: "time.sleep" in Path(f"/proc/{child}/cmdline").read_text(), 30)
        proc.send_signal(signal.SIGKILL)  # stops nothing itself
        proc.wait(10)
        wait_until(lambda: not alive(child), 30, message="the child outlived its supervisor")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_parent_already_gone_is_noticed(tmp_path: Path) -> None:
    # Asked to watch a pid that is not its parent (it died meanwhile): it stops at once.
    done = subprocess.run(
        [sys.executable, "-m", "srs.app.with_parent", "1", sys.executable, "-c", "print('ran')"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGTERM and "ran" not in done.stdout
