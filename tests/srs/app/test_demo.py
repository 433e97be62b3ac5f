"""`srs demo --headless --script --duration 60`: the whole system on the real footage
tells its story (README.md, "What the demo shows") and leaves nothing running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from srs.app.demo_cast import CAMERAS

pytestmark = pytest.mark.slow


def _srs_processes(data_dir: Path) -> list[str]:
    """Command lines of any process still running with this data dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(data_dir) in cmd:
            found.append(cmd)
    return found


def test_demo_runs_headless_and_leaves_nothing_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    summary_file = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "srs.app",
            "demo",
            "--headless",
            "--script",
            "--duration",
            "60",
            "--data-dir",
            str(data_dir),
            "--summary-json",
            str(summary_file),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        env=env,
        cwd=tmp_path,
    )
    logs = "\n".join(
        f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted((data_dir / "logs").glob("*.log"))
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n{logs}"
    summary = json.loads(summary_file.read_text())

    # Every camera delivered detections that core stored (counted without a cap).
    assert set(summary["sightings_by_camera"]) == set(CAMERAS)
    assert all(n > 0 for n in summary["sightings_by_camera"].values())
    # People were placed in zones, nothing was rejected.
    assert summary["people_by_zone"], summary
    assert summary["rejected"] == 0, summary["rejected_by_reason"]
    assert summary["received"] > 0 and summary["accepted"] > 0
    assert summary["latency_p50_ms"] is not None  # camera -> screen, measured
    # Every process is gone.
    assert summary["processes_left"] == 0
    assert _srs_processes(data_dir) == []
    # The printed summary says the same, for a person reading it.
    assert "result: OK" in result.stdout

    # The story (README.md, "What the demo shows"; srs/app/demo_cast.py says why each
    # part holds whichever replayed frames the nodes get to encode).
    story = summary["story"]
    # Alice Martin, enrolled from a badge photo cut from the server-room footage, is
    # named by recognition on the entrance camera, which plays other footage of her:
    # every 1.8 s loop shows 7 frontal views that each name her on their own.
    assert "entrance" in story["recognised_on"].get("Alice Martin", []), story
    # The man nobody enrolled is one anonymous identity on both door cameras (the
    # corridor camera starts once the server room has founded it), then the guard
    # names it.
    assert story["stranger_one_identity_on_both"], story["stranger_identities"]
    assert story["named_by_guard"], "the scripted guard named nobody"
    # At most one alert per restricted-zone stay.
    assert story["alerts_beyond_one_per_stay"] == {}, story
    assert story["complete"]
    assert "story: complete" in result.stdout
