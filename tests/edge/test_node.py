"""The camera node end to end with a real broker and a small acker playing core."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import cv2
import pytest
from pydantic import SecretStr

from edge.config import EdgeConfig
from edge.node import EdgeNode, key_path, outbox_path
from edge.outbox import Outbox
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle, free_port
from tests.edge.acker import Acker
from tests.edge.footage import MALE

CAM = "cam7"
HEAD_TURN = "video/head-pose-face-detection-female.gif"


@pytest.fixture(scope="module")
def frames_dir(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six frames of the head-turn clip as a folder source (few frames: fast)."""
    out = tmp_path_factory.mktemp("frames")
    cap = cv2.VideoCapture(str(media / HEAD_TURN))
    for i in range(6):
        ok, image = cap.read()
        assert ok
        cv2.imwrite(str(out / f"f{i:03d}.png"), image)
    cap.release()
    return out


def make_cfg(data_dir: Path, mqtt: MqttConfig, source: Path, **edge: Any) -> SrsConfig:
    edge.setdefault("once_timeout_s", 60.0)
    return SrsConfig(
        data_dir=data_dir, mqtt=mqtt, edge=EdgeConfig(camera_id=CAM, source=str(source), **edge)
    )


def keys(cfg: SrsConfig) -> tuple[SigningKey, SigningKey]:
    camera = SigningKey.load_or_create(topics.camera_issuer(CAM), key_path(cfg, CAM))
    core = SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    return camera, core


def test_once_run_is_acknowledged_end_to_end(
    srs_broker: BrokerHandle, tmp_path: Path, frames_dir: Path
) -> None:
    cfg = make_cfg(
        tmp_path,
        srs_broker.client_config(CAM, "camera"),
        frames_dir,
        heartbeat_interval_s=0.2,
        encode_refresh_s=3600,
    )
    camera_key, core_key = keys(cfg)
    acker = Acker(srs_broker.client_config("core", "core"), camera_key, core_key, CAM)
    acker.start(srs_broker.host, srs_broker.port)
    try:
        with EdgeNode(cfg) as node:
            assert node.run(once=True) == 0
            analysed = node.analyser.stats.frames_analysed
    finally:
        acker.stop()
    assert analysed == 6
    assert acker.stored == list(range(len(acker.stored))) and len(acker.stored) >= 5
    batches = acker.batches
    assert all(b.camera_id == CAM and b.frame_width == 480 for b in batches)
    kinds = {d.kind for b in batches for d in b.detections}
    assert "profile" in kinds  # the head turns in frames 1-4
    # A folder holds unrelated stills: no track continues from one image to the next,
    # so each frontal face is encoded in its own image.
    tracks = [d.track_id for b in batches for d in b.detections]
    assert len(tracks) == len(set(tracks))
    assert sum(d.encoding is not None for b in batches for d in b.detections) >= 1
    assert any(s.state == "online" for s in acker.statuses)
    with Outbox(outbox_path(cfg, CAM)) as box:
        assert box.depth == 0


def test_broker_down_then_delivered_exactly_once(
    srs_broker: BrokerHandle, tmp_path: Path, frames_dir: Path
) -> None:
    down = MqttConfig(host="127.0.0.1", port=free_port(), username=CAM, password=SecretStr("x"))
    cfg = make_cfg(tmp_path, down, frames_dir, encode=False, once_timeout_s=1.0)
    camera_key, core_key = keys(cfg)
    with EdgeNode(cfg) as node:
        assert node.run(once=True) == 1  # nothing acknowledged: a clear failure
    with Outbox(outbox_path(cfg, CAM)) as box:
        kept = box.depth
    assert kept >= 5

    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = make_cfg(tmp_path, srs_broker.client_config(CAM, "camera"), empty, encode=False)
    acker = Acker(srs_broker.client_config("core", "core"), camera_key, core_key, CAM)
    acker.start(srs_broker.host, srs_broker.port)
    try:
        with EdgeNode(cfg) as node:
            assert node.run(once=True) == 0
    finally:
        acker.stop()
    assert acker.stored == list(range(kept))  # complete, in order, each once
    assert not acker.rejected


def test_forged_acks_are_ignored_and_counted(
    srs_broker: BrokerHandle, tmp_path: Path, frames_dir: Path
) -> None:
    cfg = make_cfg(
        tmp_path,
        srs_broker.client_config(CAM, "camera"),
        frames_dir,
        encode=False,
        once_timeout_s=2.0,
    )
    camera_key, _ = keys(cfg)  # core.key.pub is on disk, but acks come from another key
    forger = Acker(
        srs_broker.client_config("core", "core"),
        camera_key,
        SigningKey.generate(topics.CORE_SENDER),
        CAM,
    )
    forger.start(srs_broker.host, srs_broker.port)
    try:
        with EdgeNode(cfg) as node:
            assert node.run(once=True) == 1
            rejected = node.link.acks_rejected
            depth = node.outbox.depth
    finally:
        forger.stop()
    assert rejected >= 1
    assert depth == len(forger.stored) >= 5


def test_sigterm_style_stop_exits_cleanly(
    srs_broker: BrokerHandle, tmp_path: Path, frames_dir: Path
) -> None:
    cfg = make_cfg(tmp_path, srs_broker.client_config(CAM, "camera"), frames_dir, encode=False)
    with EdgeNode(cfg) as node:
        timer = threading.Timer(0.5, node.stop)
        timer.start()
        assert node.run(loop=True) == 0  # a live (looping) source ends only on stop
        timer.join()
    assert node.analyser.stats.frames_analysed >= 1
    with Outbox(outbox_path(cfg, CAM)) as box:  # closed cleanly; the next run continues
        assert box.next_seq >= box.depth


def test_once_refuses_a_live_source(tmp_path: Path) -> None:
    cfg = SrsConfig(
        data_dir=tmp_path,
        mqtt=MqttConfig(port=free_port()),
        edge=EdgeConfig(camera_id=CAM, source="rtsp://127.0.0.1:1/none", encode=False),
    )
    with EdgeNode(cfg) as node:
        assert node.run(once=True) == 2


def test_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    cfg = SrsConfig(
        data_dir=tmp_path,
        mqtt=MqttConfig(port=free_port()),
        edge=EdgeConfig(camera_id=CAM, source=str(tmp_path / "nope.mp4"), encode=False),
    )
    with EdgeNode(cfg) as node:
        assert node.run(once=True) == 2


def run_once(
    cfg: SrsConfig, srs_broker: BrokerHandle, kill_worker: bool = False
) -> tuple[Acker, dict[str, Any]]:
    """One ``--once`` run against an acker: what it stored and the node's last status."""
    camera_key, core_key = keys(cfg)
    acker = Acker(srs_broker.client_config("core", "core"), camera_key, core_key, CAM)
    acker.start(srs_broker.host, srs_broker.port)
    try:
        with EdgeNode(cfg) as node:
            if kill_worker:
                assert node.encoder is not None
                os.kill(node.encoder.worker_pids[0], signal.SIGKILL)
            assert node.run(once=True) == 0
            status = node.status()
    finally:
        acker.stop()
    return acker, status


def test_a_killed_encoder_worker_leaves_the_node_running(
    srs_broker: BrokerHandle, tmp_path: Path, media: Path
) -> None:
    cfg = make_cfg(tmp_path, srs_broker.client_config(CAM, "camera"), media / HEAD_TURN)
    acker, status = run_once(cfg, srs_broker, kill_worker=True)
    assert status["encoder_restarts"] == 1
    assert any(d.encoding is not None for b in acker.batches for d in b.detections)
    assert len(acker.stored) == status["frames_analysed"] == 23  # every frame, a face each


def test_two_once_runs_of_one_file_give_the_same_messages(
    srs_broker: BrokerHandle, tmp_path: Path, media: Path
) -> None:
    """The man's clip (5 s): a first encoding, refreshes on the clip's own clock."""
    runs = []
    for name in ("first", "second"):
        cfg = make_cfg(tmp_path / name, srs_broker.client_config(CAM, "camera"), media / MALE)
        acker, _ = run_once(cfg, srs_broker)
        runs.append([b.model_dump(exclude={"seq"}) for b in acker.batches])
    assert runs[0] == runs[1]
    encodings = [d for b in runs[0] for d in b["detections"] if d.get("encoding")]
    assert len(encodings) >= 3  # refreshed every 2 s of the clip, not of the wall


def test_a_refused_ack_subscription_stops_the_node_with_the_brokers_sentence(
    srs_broker: BrokerHandle,
    tmp_path: Path,
    frames_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Another camera's acks stand for a broker that refuses this one's: the ACL says no.
    ack = topics.ack
    monkeypatch.setattr(topics, "ack", lambda camera_id: ack("cam8"))
    cfg = make_cfg(tmp_path, srs_broker.client_config(CAM, "camera"), frames_dir, encode=False)
    with caplog.at_level("ERROR", logger="edge.node"), EdgeNode(cfg) as node:
        assert node.run(loop=True) == 1  # a looping source: only the refusal ends it
    sentence = f"camera {CAM} stops: the broker refused the subscription to '{ack('cam8')}'"
    assert sentence in caplog.text
