"""edge/srs_config.py: the whole configuration provides every part a camera node reads."""

from __future__ import annotations

from pathlib import Path

from edge.config import EdgeConfig
from edge.srs_config import SrsConfig as EdgeView
from srs.app.config import SrsConfig
from srs.config import MqttConfig, SecurityConfig


def test_the_whole_configuration_is_an_edge_view(tmp_path: Path) -> None:
    view: EdgeView = SrsConfig(data_dir=tmp_path)
    assert view.data_dir == tmp_path
    assert view.keys_dir == tmp_path / "keys"
    assert isinstance(view.mqtt, MqttConfig)
    assert isinstance(view.security, SecurityConfig)
    assert isinstance(view.edge, EdgeConfig)


def test_edge_learns_whether_the_data_dir_was_chosen(tmp_path: Path) -> None:
    chosen: EdgeView = SrsConfig(data_dir=tmp_path)
    default: EdgeView = SrsConfig()
    assert chosen.data_dir_chosen
    assert not default.data_dir_chosen
