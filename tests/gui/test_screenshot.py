"""The screenshot script renders the dashboard with its sample state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from gui.screenshot import render


def test_screenshot_renders_a_png(qapp, tmp_path: Path) -> None:
    out = render(tmp_path / "img" / "dashboard.png")
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1200 and image.height() >= 700
