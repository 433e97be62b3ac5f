"""Naming the system libraries the dashboard's Qt needs (a fresh Debian lacks some)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from srs.app import qt_libs


def test_a_binary_with_everything_present_misses_nothing() -> None:
    assert qt_libs.missing_libraries([Path(sys.executable)]) == []


def test_the_known_missing_ones_map_to_their_debian_packages() -> None:
    missing = ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert qt_libs.packages_for(missing) == ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"]
    assert qt_libs.packages_for(["libnew.so.9"]) == ["libnew.so.9"]  # unknown: named as is
    text = qt_libs.advice(missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in text


def test_every_library_qt_links_directly_is_in_the_table() -> None:
    """A PySide6 upgrade that links a new system library must add it to the table."""
    import shutil
    import subprocess

    binaries = qt_libs.qt_binaries()
    if not binaries or shutil.which("readelf") is None:
        pytest.skip("no PySide6 xcb plugin or no readelf here")
    qt = binaries[0].parents[2]  # .../PySide6/Qt
    needed = set()
    for b in [*binaries, *qt.glob("lib/libQt6Gui.so.*")]:
        out = subprocess.run(["readelf", "-d", str(b)], capture_output=True, text=True).stdout
        needed |= {ln.split("[")[1].rstrip("]") for ln in out.splitlines() if "(NEEDED)" in ln}
    bundled = {p.name for p in (qt / "lib").iterdir()}
    libc = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}
    system = {n for n in needed - bundled - libc if not n.startswith(("libQt6", "ld-linux"))}
    assert system - set(qt_libs.DEBIAN_PACKAGES) == set()


def test_main_names_the_command_when_it_cannot_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(qt_libs, "missing_libraries", lambda: ["libxcb-icccm.so.4"])
    monkeypatch.setattr(qt_libs.os, "geteuid", lambda: 1000)  # not root: only say it
    assert qt_libs.main(["--install"]) == 1
    assert "sudo apt-get install libxcb-icccm4" in capsys.readouterr().err
    monkeypatch.setattr(qt_libs, "missing_libraries", lambda: [])
    assert qt_libs.main([]) == 0
