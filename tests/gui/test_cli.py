"""`srs gui` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from srs.app.cli import main
from tests.waiting import wait_until


def test_srs_gui_screenshot_writes_the_png(
    qapp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dash.png"
    assert main(["gui", "--data-dir", str(tmp_path / "var"), "--screenshot", str(out)]) == 0
    assert not QImage(str(out)).isNull()
    assert f"wrote {out}" in capsys.readouterr().out


def test_srs_gui_help_names_the_sign_in_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gui", "--help"])
    text = capsys.readouterr().out
    assert "--user" in text and "--password-stdin" in text and "--screenshot" in text


def test_auto_sign_in_opens_the_dashboard_and_sigterm_closes_it(
    tmp_path: Path, srs_broker, core_key
) -> None:
    """`srs gui` as the demo runs it: credentials from the environment, no dialog."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.gui.helpers import OPERATOR, operator_password

    pub = tmp_path / "core.key.pub"
    pub.write_text(core_key.public_key_b64 + "\n")
    shot = tmp_path / "live.png"
    config = tmp_path / "srs.toml"
    config.write_text(f"""data_dir = "{tmp_path / "var"}"
[mqtt]
host = "{srs_broker.host}"
port = {srs_broker.port}
[gui]
core_public_key_file = "{pub}"
screenshot_file = "{shot}"
screenshot_after_s = 0.0
""")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SRS_MQTT__USERNAME": OPERATOR,
        "SRS_MQTT__PASSWORD": operator_password(srs_broker),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "srs.app", "gui", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: shot.exists() or proc.poll() is not None,
            timeout=30,
            interval=0.1,
            message=lambda: proc.communicate(timeout=5)[0].decode()[-2000:],
        )
        assert shot.exists(), proc.communicate(timeout=5)[0].decode()[-2000:]
        time.sleep(0.3)  # let the PNG be written completely
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=15)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-2000:]
    assert "MQTT: connected" in out and "MQTT: stopped" in out
    assert not QImage(str(shot)).isNull()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_dashboard_on_the_sign_in_screen(tmp_path: Path, signame: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("SRS_MQTT__PASSWORD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "srs.app", "gui", "--data-dir", str(tmp_path / "var")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed when the sign-in screen opens
        assert "Sign in to the broker" in first, first
        proc.send_signal(getattr(signal, signame))
        out = first + proc.communicate(timeout=20)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-2000:]
