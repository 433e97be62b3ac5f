"""gui/srs_config.py: the whole configuration provides every part the dashboard reads."""

from __future__ import annotations

from pathlib import Path

from gui.config import GuiConfig
from gui.srs_config import SrsConfig as GuiView
from srs.app.config import SrsConfig
from srs.config import MqttConfig, SecurityConfig


def test_the_whole_configuration_is_a_dashboard_view(tmp_path: Path) -> None:
    view: GuiView = SrsConfig(data_dir=tmp_path, gui=GuiConfig(trail_length=3))
    assert view.data_dir == tmp_path
    assert view.keys_dir == tmp_path / "keys"
    assert isinstance(view.mqtt, MqttConfig)
    assert isinstance(view.security, SecurityConfig)
    assert view.gui.trail_length == 3
