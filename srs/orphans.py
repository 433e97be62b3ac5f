"""A worker process that ends by itself when the process it works for is gone.

A process killed outright (``kill -9``, the OOM killer) cannot stop its workers, and a
multiprocessing worker blocked on its task queue never notices: the queue's pipe
stays open in the worker itself. Each worker therefore watches the process it works
for from a daemon thread and exits (``os._exit``: nothing of its work is worth
finishing for nobody) within ``every_s`` of its going (issue 21).
"""

from __future__ import annotations

import os
import threading
import time

CHECK_EVERY_S = 1.0


def _gone(pid: int, was_parent: bool) -> bool:
    if was_parent:  # reparented: our parent died (a pid test would be fooled by reuse)
        return os.getppid() != pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # the pid now belongs to another user's process
        return True
    return False


def exit_when_gone(pid: int, every_s: float = CHECK_EVERY_S) -> threading.Thread:
    """Start the watch: this process exits once ``pid`` has (its parent, or another
    process: a forkserver's worker watches the node, not the forkserver)."""
    was_parent = os.getppid() == pid

    def watch() -> None:
        while not _gone(pid, was_parent):
            time.sleep(every_s)
        os._exit(0)

    thread = threading.Thread(target=watch, name="orphan-check", daemon=True)
    thread.start()
    return thread
