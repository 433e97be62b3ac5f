"""Workers end by themselves when the process they work for is killed outright.

Real processes: a spawned ProcessPoolExecutor worker with core's enrolment
initializer (core.enrol_pool._child, which also ignores SIGTERM), its parent killed
with SIGKILL; the worker and multiprocessing's resource tracker must both be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.procs import alive
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_core_enrolment_worker_and_tracker_exit_with_core(tmp_path: Path) -> None:
    ready = tmp_path / "worker.pid"
    parent = textwrap.dedent(
        f"""
        import multiprocessing, os, time
        from concurrent.futures import ProcessPoolExecutor
        from core.enrol_pool import _child
        if __name__ == "__main__":
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child,
                initargs=(os.getpid(),),
            )
            worker = pool.submit(os.getpid).result()
            open({str(ready)!r}, "w").write(str(worker))
            time.sleep(120)
        """
    )
    script = tmp_path / "core_like.py"
    script.write_text(parent)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    kids: list[int] = []
    try:
        wait_until(lambda: ready.exists() and ready.read_text(), 120)
        kids = _children(proc.pid)  # the worker and the resource tracker
        assert int(ready.read_text()) in kids and len(kids) >= 2, kids
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until(
            lambda: not any(alive(k) for k in kids),
            30,
            message=lambda: f"still running: {[k for k in kids if alive(k)]}",
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        for k in kids:
            if alive(k):
                os.kill(k, signal.SIGKILL)
