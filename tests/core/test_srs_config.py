"""core/srs_config.py: the whole configuration provides every part core reads."""

from __future__ import annotations

from pathlib import Path

from broker.config import BrokerConfig
from core.config import CoreConfig
from core.srs_config import SrsConfig as CoreView
from srs.app.config import SrsConfig
from srs.config import MqttConfig, SecurityConfig


def test_the_whole_configuration_is_a_core_view(tmp_path: Path) -> None:
    view: CoreView = SrsConfig(data_dir=tmp_path)  # mypy checks the protocol here
    assert view.data_dir == tmp_path
    assert view.keys_dir == tmp_path / "keys"
    assert isinstance(view.mqtt, MqttConfig)
    assert isinstance(view.security, SecurityConfig)
    assert isinstance(view.core, CoreConfig)
    assert isinstance(view.broker, BrokerConfig)


def test_core_reads_the_sections_it_was_given(tmp_path: Path) -> None:
    whole = SrsConfig(data_dir=tmp_path, core=CoreConfig(match_threshold=0.42))
    view: CoreView = whole
    assert view.core.match_threshold == 0.42
