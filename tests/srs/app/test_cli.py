"""The `srs` command line: one entry point, helpful errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from srs.app.cli import main

SUBCOMMANDS = [
    "broker",
    "core",
    "edge",
    "gui",
    "demo",
    "init",
    "person",
    "camera",
    "user",
    "sightings",
    "site",
    "db",
]


def run_srs(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srs.app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_help_lists_every_subcommand() -> None:
    out = run_srs("--help")
    assert out.returncode == 0
    listed = out.stdout.split("commands:")[1]
    missing = [c for c in SUBCOMMANDS if f"    {c} " not in listed and f"    {c}\n" not in listed]
    assert not missing, f"missing from srs --help: {missing}\n{out.stdout}"


def test_check_config_reports_key_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "srs.toml"
    bad.write_text("[mqtt]\nport = 0\n")
    out = run_srs("demo", "--config", str(bad), "--check-config")
    assert out.returncode == 2
    assert "mqtt.port = 0" in out.stderr


def test_check_config_ok(tmp_path: Path) -> None:
    out = run_srs("demo", "--check-config", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "configuration OK" in out.stdout


def test_a_group_without_verb_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["person"]) == 2
    assert "verbs" in capsys.readouterr().out
