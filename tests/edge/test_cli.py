"""`srs edge` as a process: init, SIGTERM -> exit 0 and offline status, kill -9 -> last will."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edge.node import key_path
from srs.app.cli import main
from srs.app.config import SrsConfig
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle
from tests.edge.acker import Acker
from tests.waiting import wait_until

CAM = "cam9"


def test_init_creates_key_and_prints_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edge", "init", "--camera-id", CAM, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    path = key_path(SrsConfig(data_dir=tmp_path), CAM)
    key = SigningKey.load(topics.camera_issuer(CAM), path)
    assert out.out.strip() == key.public_key_b64
    assert f"srs camera add {CAM} --public-key {key.public_key_b64}" in out.err
    assert main(["edge", "init", "--camera-id", CAM, "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == key.public_key_b64  # same key, not replaced


def test_bad_camera_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edge", "--camera-id", "a/b", "--once"]) == 2
    assert "camera id" in capsys.readouterr().err


def start_node(srs_broker: BrokerHandle, tmp_path: Path, media: Path) -> subprocess.Popen[str]:
    mqtt = srs_broker.client_config(CAM, "camera")
    assert mqtt.password is not None
    env = dict(
        os.environ,
        SRS_MQTT__HOST=mqtt.host,
        SRS_MQTT__PORT=str(mqtt.port),
        SRS_MQTT__USERNAME=CAM,
        SRS_MQTT__PASSWORD=mqtt.password.get_secret_value(),
        SRS_EDGE__ENCODE="false",
        SRS_EDGE__HEARTBEAT_INTERVAL_S="0.5",
    )
    env.pop("SRS_CONFIG", None)
    clip = media / "video" / "head-pose-face-detection-female.gif"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "srs.app",
            "edge",
            "--camera-id",
            CAM,
            "--source",
            str(clip),
            "--loop",
            "--data-dir",
            str(tmp_path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_process_says_offline(
    srs_broker: BrokerHandle, tmp_path: Path, media: Path, how: str
) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    camera = SigningKey.load_or_create(topics.camera_issuer(CAM), key_path(cfg, CAM))
    core = SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    acker = Acker(srs_broker.client_config("core", "core"), camera, core, CAM)
    acker.start(srs_broker.host, srs_broker.port)
    proc = start_node(srs_broker, tmp_path, media)
    try:
        wait_until(
            lambda: any(s.state == "online" and s.frames_analysed > 0 for s in acker.statuses),
            timeout=30,
            message="the node never said it was online and analysing",
        )
        wait_until(lambda: len(acker.stored) >= 2, timeout=30)
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        code = proc.wait(60)
        assert code == (0 if how == "sigterm" else -signal.SIGKILL)
        wait_until(lambda: acker.statuses[-1].state == "offline", timeout=15)
        message = acker.statuses[-1].message
        assert message == ("stopped" if how == "sigterm" else "connection lost")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        acker.stop()


def test_unreadable_key_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = key_path(SrsConfig(data_dir=tmp_path), CAM)
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    assert main(["edge", "--camera-id", CAM, "--once", "--data-dir", str(tmp_path)]) == 1
    assert "not a PEM private key" in capsys.readouterr().err


def test_init_without_a_data_dir_says_where_to_put_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SRS_DATA_DIR", raising=False)
    monkeypatch.delenv("SRS_CONFIG", raising=False)
    assert main(["edge", "init", "--camera-id", CAM]) == 2
    assert "--data-dir /var/lib/srs" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written into the current directory


def test_a_mistyped_camera_id_gets_no_new_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edge", "init", "--camera-id", CAM, "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    typo = CAM + "x"
    assert main(["edge", "--camera-id", typo, "--once", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"no key for camera '{typo}'" in err and CAM in err
    assert not key_path(SrsConfig(data_dir=tmp_path), typo).exists()


def test_once_with_a_wrong_password_exits_with_a_sentence(
    srs_broker: BrokerHandle, tmp_path: Path, media: Path
) -> None:
    mqtt = srs_broker.client_config(CAM, "camera")
    env = dict(
        os.environ,
        SRS_MQTT__HOST=mqtt.host,
        SRS_MQTT__PORT=str(mqtt.port),
        SRS_MQTT__USERNAME=CAM,
        SRS_MQTT__PASSWORD="not-the-password",
        SRS_EDGE__ENCODE="false",
        SRS_EDGE__ONCE_TIMEOUT_S="600",  # it must not wait this out
    )
    env.pop("SRS_CONFIG", None)
    still = media / "faces" / "test"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "srs.app", "edge", "--camera-id", CAM),
            *("--source", str(still), "--once", "--data-dir", str(tmp_path)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "refused the user name or password" in result.stderr
    assert "stay in" in result.stderr
