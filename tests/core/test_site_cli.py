"""core/site_cli.py: `srs site check` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from srs.app.cli import main
from tests.core.test_site import DEMO


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data-dir", str(tmp_path)]
    assert main(["site", "check", str(DEMO), *args]) == 0
    out = capsys.readouterr().out
    assert "server-room" in out and "RESTRICTED" in out and "corridor" in out
    broken = tmp_path / "broken.toml"
    broken.write_text(
        'name = "x"\nwidth_m = 5\nheight_m = 5\n[[cameras]]\nid = "c"\nx = 9\ny = 1\nyaw_deg = 0\n'
    )
    assert main(["site", "check", str(broken), *args]) == 2
    err = capsys.readouterr().err
    assert "cameras[0] (id 'c'): position x = 9" in err
    assert main(["site", "check", str(tmp_path / "missing.toml"), *args]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_uses_the_configured_site_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "srs.toml"
    cfg.write_text(f'[core]\nsite_file = "{DEMO}"\n')
    assert main(["site", "check", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 0
    assert "SRS demo school" in capsys.readouterr().out
    cfg.write_text("")
    assert main(["site", "check", "--config", str(cfg), "--data-dir", str(tmp_path)]) == 2
    assert "no site file" in capsys.readouterr().err
