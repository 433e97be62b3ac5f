"""`srs gui` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from srs.cli import main


def test_srs_gui_screenshot_writes_the_png(qapp, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dash.png"
    assert main(["gui", "--data-dir", str(tmp_path / "var"), "--screenshot", str(out)]) == 0
    assert not QImage(str(out)).isNull()
    assert f"wrote {out}" in capsys.readouterr().out


def test_srs_gui_help_names_the_sign_in_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gui", "--help"])
    text = capsys.readouterr().out
    assert "--user" in text and "--password-stdin" in text and "--screenshot" in text
