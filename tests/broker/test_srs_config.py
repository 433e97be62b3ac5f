"""broker/srs_config.py: the whole configuration provides every part the broker reads."""

from __future__ import annotations

from pathlib import Path

from broker.config import BrokerConfig
from broker.srs_config import DataDir
from broker.srs_config import SrsConfig as BrokerView
from srs.app.config import SrsConfig


def test_the_whole_configuration_is_a_broker_view(tmp_path: Path) -> None:
    view: BrokerView = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(port=1999))
    assert view.data_dir == tmp_path
    assert view.broker.port == 1999


def test_the_users_file_needs_only_the_data_dir(tmp_path: Path) -> None:
    where: DataDir = SrsConfig(data_dir=tmp_path)
    assert where.data_dir == tmp_path
