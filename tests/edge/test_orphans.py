"""``kill -9`` of a real `srs edge` leaves no process of it behind (issue 21).

The node's children (the multiprocessing forkserver, its resource tracker and the
encoder workers, which are the forkserver's children) cannot be stopped by a node
killed outright: the workers watch the node and exit; the forkserver and the tracker
end when the last holder of their pipes is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from srs.app.config import SrsConfig
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle
from tests.edge.acker import Acker
from tests.waiting import wait_until

CAM = "cam8"


def family(pid: int) -> list[psutil.Process]:
    """``pid``'s descendants, and any process started by one that was reparented
    since (same session: the node runs in its own)."""
    root = psutil.Process(pid)
    found = {p.pid: p for p in root.children(recursive=True)}
    sid = os.getsid(pid)
    for p in psutil.process_iter():
        try:
            if p.pid != pid and os.getsid(p.pid) == sid:
                found[p.pid] = p
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return list(found.values())


def alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.Error:
            continue
    return out


def test_kill_9_of_a_node_leaves_no_process_behind(
    srs_broker: BrokerHandle, tmp_path: Path, media: Path
) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    camera = SigningKey.load_or_create(
        topics.camera_issuer(CAM), tmp_path / "keys" / f"camera-{CAM}.key"
    )
    core = SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    acker = Acker(srs_broker.client_config("core", "core"), camera, core, CAM)
    acker.start(srs_broker.host, srs_broker.port)
    mqtt = srs_broker.client_config(CAM, "camera")
    assert mqtt.password is not None
    env = dict(
        os.environ,
        SRS_MQTT__HOST=mqtt.host,
        SRS_MQTT__PORT=str(mqtt.port),
        SRS_MQTT__USERNAME=CAM,
        SRS_MQTT__PASSWORD=mqtt.password.get_secret_value(),
        SRS_EDGE__HEARTBEAT_INTERVAL_S="0.5",
    )
    env.pop("SRS_CONFIG", None)
    clip = media / "video" / "head-pose-face-detection-female.gif"
    cmd = [sys.executable, "-m", "srs.app", "edge", "--camera-id", CAM, "--source", str(clip)]
    proc = subprocess.Popen(
        [*cmd, "--loop", "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own session: what it leaves behind is findable
    )
    children: list[psutil.Process] = []
    try:
        # Encodings stored: the forkserver, the tracker and a worker are all up.
        wait_until(
            lambda: any(d.encoding for b in acker.batches for d in b.detections),
            120,
            message="the node never sent an encoding",
        )
        children = family(proc.pid)
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "forkserver" in names and len(children) >= 3, names
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
        wait_until(
            lambda: not alive(children),
            30,
            message=lambda: "still running after the node's kill -9: " + "; ".join(alive(children)),
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for p in children:  # a failed test leaves nothing running either
            with contextlib.suppress(psutil.Error):
                p.kill()
        acker.stop()
