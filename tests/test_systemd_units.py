"""The units in systemd/: `systemd-analyze verify` accepts each, and each supervises
(Type=notify, a watchdog, secrets from an EnvironmentFile, a dedicated user). The
`systemd-analyze security` exposure of each is printed (run with -s to see it)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).parent.parent / "systemd").glob("*.service"))
INSTALLED_SRS = "/opt/srs/.venv/bin/srs"


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd; .ci/run does)")
    return found


def _as_installed(unit: Path, tmp_path: Path) -> Path:
    """A copy whose ExecStart exists here (verify checks the binary is executable), and
    a template as an instance: srs-edge@.service -> srs-edge@cam1.service."""
    stub = tmp_path / "bin" / "srs"
    if not stub.exists():
        stub.parent.mkdir(parents=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    copy = tmp_path / unit.name.replace("@.", "@cam1.")
    copy.write_text(unit.read_text().replace(INSTALLED_SRS, str(stub)))
    return copy


def _service_section(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    return dict(parser["Service"])


def test_there_are_units() -> None:
    assert {u.name for u in UNITS} == {
        "srs-broker.service",
        "srs-core.service",
        "srs-edge@.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify_accepts_the_unit(unit: Path, tmp_path: Path) -> None:
    analyze = _analyze()
    copy = _as_installed(unit, tmp_path)
    # --man=no: Documentation= points into the installed tree, absent here.
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stderr.strip() == "", result.stderr
    security = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    score = [line for line in security.stdout.splitlines() if "Overall exposure" in line]
    print(score[0] if score else security.stderr.strip())


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_supervises_and_keeps_secrets_out(unit: Path) -> None:
    service = _service_section(unit)
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) > 0
    assert service["User"] == "srs" and service["Group"] == "srs"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    settings = [line for line in unit.read_text().splitlines() if not line.startswith("#")]
    assert not any("PASSWORD" in line for line in settings), "a secret in the unit"
    if unit.name != "srs-broker.service":  # the clients need their broker password
        assert service["EnvironmentFile"].startswith("/etc/srs/")
