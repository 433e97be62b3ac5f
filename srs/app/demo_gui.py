"""The dashboard in ``srs demo``: started signed in, off screen for a screenshot, and
when Qt cannot start, the reason in its own words while the demo goes on headless."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from srs.app.qt_libs import advice, missing_libraries
from srs.app.supervise import Child


@dataclass(frozen=True)
class ScreenshotPlan:
    path: Path
    after_s: float  # after the dashboard signed in


def gui_env(screenshot: ScreenshotPlan | None) -> dict[str, str]:
    """Environment of the dashboard: for a screenshot, rendered off screen (works with
    or without a display, never covers one) and grabbed by [gui] screenshot_file."""
    if screenshot is None:
        return {}
    return {
        "QT_QPA_PLATFORM": "offscreen",
        "SRS_GUI__SCREENSHOT_FILE": str(screenshot.path.resolve()),
        "SRS_GUI__SCREENSHOT_AFTER_S": str(screenshot.after_s),
    }


def _uses_xcb() -> bool:
    """Will Qt pick its xcb plugin (X11)? Wayland sessions use their own plugin."""
    platform = os.environ.get("QT_QPA_PLATFORM")
    if platform is not None:
        return platform.startswith("xcb")
    return not os.environ.get("WAYLAND_DISPLAY")


def why_no_dashboard() -> str | None:
    """Why the dashboard cannot start here, known before trying (None: try it)."""
    missing = missing_libraries() if _uses_xcb() else []
    return advice(missing) if missing else None


def gui_failure(gui: Child) -> str:
    """Why the dashboard stopped, in the GUI's (or Qt's) own words from its log."""
    lines = gui.log_path.read_text(errors="replace").splitlines() if gui.log_path.exists() else []
    # Qt's reasons ("qt.qpa.plugin: Could not load...") and tracebacks, not routine logging.
    own = [ln for ln in lines if " INFO " not in ln and " DEBUG " not in ln and ln.strip()]
    why = "\n  ".join(own[-8:]) or "(nothing in its log)"
    missing = missing_libraries()
    hint = f"\n  {advice(missing)}" if missing else ""
    return (
        f"srs demo: the dashboard stopped (exit code {gui.process.returncode}); it said:\n"
        f"  {why}{hint}\n(full log: {gui.log_path}); continuing headless"
    )
