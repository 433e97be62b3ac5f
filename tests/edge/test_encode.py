"""The encoder pool survives its workers: a killed worker is replaced, jobs go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge import encode
from edge.detect import Box
from edge.encode import EncoderPool, InlineEncoder, crop_for_encoding
from tests.procs import alive
from tests.waiting import wait_until

PORTRAIT = "faces/train/obama/obama.jpg"


@pytest.fixture(scope="module")
def face_crop(media: Path) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    import face_recognition

    bgr = cv2.imread(str(media / PORTRAIT))
    assert bgr is not None
    (top, right, bottom, left), *_ = face_recognition.face_locations(bgr[:, :, ::-1].copy())
    box: Box = (left, top, right - left, bottom - top)
    return crop_for_encoding(bgr, box)


def test_a_killed_worker_is_replaced_and_the_next_encodings_work(
    face_crop: tuple[np.ndarray, tuple[int, int, int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rgb, location = face_crop
    expected = InlineEncoder().submit(rgb, location)
    assert expected is not None and expected.result() is not None
    pool = EncoderPool(workers=1, max_pending=4)
    try:
        assert pool.wait_ready()
        (worker,) = pool.worker_pids
        os.kill(worker, signal.SIGKILL)
        # Submitted to the dying pool: it breaks under this job, which is tried again.
        first = pool.submit(rgb, location)
        assert first is not None and first.result(timeout=120) == expected.result()
        assert pool.restarts == 1
        assert worker not in pool.worker_pids
        then = pool.submit(rgb, location)
        assert then is not None and then.result(timeout=120) == expected.result()
        assert pool.restarts == 1 and pool.failed == 0 and pool.backlog == 0
        # A pool that dies again at once is not replaced for every job: they fail, counted.
        monkeypatch.setattr(encode, "RESTART_MIN_INTERVAL_S", 3600.0)
        os.kill(pool.worker_pids[0], signal.SIGKILL)
        doomed = pool.submit(rgb, location)
        assert doomed is not None
        with pytest.raises(BrokenProcessPool):
            doomed.result(timeout=120)
        assert pool.restarts == 1 and pool.failed == 1 and pool.backlog == 0
    finally:
        pool.close()


ORPHAN_SCRIPT = """
import sys
from edge.encode import EncoderPool
pool = EncoderPool(workers=1)
pool.wait_ready()
print(pool.worker_pids[0], flush=True)
sys.stdin.read()  # until killed
"""


def test_workers_of_a_killed_node_exit() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    node = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert node.stdout is not None
        worker = int(node.stdout.readline())
        assert alive(worker)
    finally:
        node.kill()  # like kill -9: no clean-up runs in the node
        node.wait()
    try:  # the worker checks on the node every second
        wait_until(
            lambda: not alive(worker),
            timeout=60,
            interval=0.2,
            message="the encode worker outlived its node",
        )
    finally:
        if alive(worker):  # leave no orphan behind, even when failing
            os.kill(worker, signal.SIGKILL)
