"""When the dashboard cannot start, the demo says why in the GUI's own words and
goes on headless (a fresh Debian lacks some of Qt's xcb libraries)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srs.app import demo_gui
from srs.app.demo_gui import gui_failure
from srs.app.demo_setup import DemoSetup
from srs.app.supervise import Supervisor, wait_for


def test_the_dashboard_s_own_error_is_quoted(tmp_path: Path) -> None:
    """A real `srs gui` on a display that does not exist: Qt cannot start and says so."""
    env = {
        "DISPLAY": ":97",  # nobody's X server
        "QT_QPA_PLATFORM": "xcb",
        "SRS_CONFIG": str(tmp_path / "srs.toml"),
    }
    (tmp_path / "srs.toml").write_text(f'data_dir = "{tmp_path / "data"}"\n')
    with Supervisor(tmp_path / "logs", grace_s=1.0) as sup:
        gui = sup.start("gui", ["gui", "--user", "operator", "--password-stdin"], env=env)
        assert wait_for(lambda: not gui.running, 60)
    assert gui.process.returncode != 0
    text = gui_failure(gui)
    assert "the dashboard stopped" in text and "continuing headless" in text
    # Qt's own reason, whichever it is here (plugin not loadable, or no display)
    assert "qt.qpa" in text or "display" in text.lower(), text
    assert str(gui.log_path) in text


def test_missing_qt_libraries_are_named_before_the_dashboard_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_gui, "missing_libraries", lambda: ["libxcb-cursor.so.0"])
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    demo = DemoSetup(tmp_path, {}, Path("site.toml"), tmp_path, operator="operator")
    demo.passwords["operator"] = "secret"
    assert demo.start_gui() is None
    out = capsys.readouterr().out
    assert "sudo apt-get install libxcb-cursor0" in out and "continuing headless" in out
    assert demo.supervisor.children == []
    assert "QT_QPA_PLATFORM" not in os.environ
