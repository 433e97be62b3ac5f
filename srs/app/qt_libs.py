"""The system libraries the dashboard's Qt (PySide6) needs on a Linux desktop.

PySide6's wheels bring Qt itself, not the X11/xcb libraries its ``xcb`` platform
plugin links to; a fresh Debian desktop lacks a few (``libxcb-cursor0``,
``libxcb-icccm4``, ``libxcb-keysyms1``...), and Qt then aborts at start with
"Could not load the Qt platform plugin". This module asks the dynamic linker
(``ldd`` on the plugin and on Qt's xcb library) which are missing and names their
Debian packages.

    python -m srs.app.qt_libs            # list what is missing (exit 1 if anything)
    python -m srs.app.qt_libs --install  # as root: apt-get install it
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

# soname -> Debian package, for every library outside the PySide6 wheel that the
# xcb plugin (libqxcb.so), libQt6XcbQpa and libQt6Gui need (readelf -d, PySide6 6.x);
# what these pull in (libXau...) comes with them.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}


def qt_binaries() -> list[Path]:
    """The xcb plugin and Qt's xcb library of the installed PySide6 (none: no PySide6)."""
    try:
        import PySide6
    except ImportError:
        return []
    qt = Path(PySide6.__file__).parent / "Qt"
    found = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted(qt.glob("lib/libQt6XcbQpa.so*"))]
    return [p for p in found if p.is_file()]


def missing_libraries(binaries: list[Path] | None = None) -> list[str]:
    """Sonames the dynamic linker cannot find for ``binaries`` (default: Qt's xcb)."""
    ldd = shutil.which("ldd")
    if ldd is None or not sys.platform.startswith("linux"):
        return []
    missing: set[str] = set()
    for binary in qt_binaries() if binaries is None else binaries:
        out = subprocess.run([ldd, str(binary)], capture_output=True, text=True).stdout
        missing.update(
            line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line
        )
    return sorted(missing)


def packages_for(sonames: list[str]) -> list[str]:
    """Debian packages providing ``sonames`` (an unknown soname is named as itself)."""
    return sorted({DEBIAN_PACKAGES.get(name, name) for name in sonames})


def advice(sonames: list[str]) -> str:
    packages = " ".join(packages_for(sonames))
    return (
        f"the dashboard (Qt) needs system libraries that are missing: {', '.join(sonames)}; "
        f"install them with: sudo apt-get install {packages}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="apt-get install them (root)")
    args = parser.parse_args(argv)
    missing = missing_libraries()
    if not missing:
        if not args.install:
            print("Qt's system libraries: all present")
        return 0
    packages = packages_for(missing)
    if args.install and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing the system libraries Qt needs: {' '.join(packages)}", flush=True)
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(cmd, env=env).returncode != 0:  # stale package lists?
            subprocess.run(["apt-get", "update"], env=env)
            subprocess.run(cmd, env=env)
        missing = missing_libraries()
        if not missing:
            return 0
    print(advice(missing), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
