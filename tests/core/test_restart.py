"""Killing core (kill -9) mid-stream and restarting it loses and duplicates nothing.

Core runs as a real `srs core` process; the camera keeps every batch until core's
end-to-end ack and re-sends the rest, the broker keeps core's persistent session,
and the (camera, seq) key stores each batch once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core import store
from core.store.models import ProcessedMessage, Sighting
from srs.app.config import load_config
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, face_data

ROOT = Path(__file__).resolve().parents[2]
CAM = camera_key("cam1")
N = 60


def _start(config: Path, log: Path) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "srs.app", "core", "--config", str(config)],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_kill_core_mid_stream_then_restart_loses_and_duplicates_nothing(tmp_path, srs_broker):
    mqtt = srs_broker.client_config("core", "core")
    config = tmp_path / "srs.toml"
    assert mqtt.password is not None
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[mqtt]\nhost = "{mqtt.host}"\nport = {mqtt.port}\nusername = "core"\n'
        f'password = "{mqtt.password.get_secret_value()}"\n'
        "[core]\ncommit_window_ms = 5\nstatus_interval_s = 1\n"
    )
    cfg = load_config(config, environ={})
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM.public_key_b64)
        obama, _ = store.get_or_create_person(s, "obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])
    core_key = SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    log = tmp_path / "core.log"
    proc = _start(config, log)
    cam = FakeCamera(
        srs_broker.client_config("cam1", "camera"),
        CAM,
        "cam1",
        core_key_b64=core_key.public_key_b64,
    )
    face = face_data()["test/obama1.jpg"]
    try:
        cam.send(batch("cam1", 0, face))
        assert cam.wait_acked({0}, timeout=60, resend_s=2), log.read_text()[-3000:]
        for seq in range(1, N + 1):
            cam.send(batch("cam1", seq, face))
            if seq == N // 3:
                proc.send_signal(signal.SIGKILL)  # mid-stream, no goodbye
                proc.wait(10)
        time.sleep(0.5)
        proc = _start(config, log)
        assert cam.wait_acked(set(range(N + 1)), timeout=90, resend_s=2), log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0  # a clean stop on SIGTERM
    finally:
        cam.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)) == N + 1
        seqs = sorted(s.scalars(select(Sighting.seq)))
    db.close()
    assert seqs == list(range(N + 1))  # every batch once: nothing lost, nothing twice
