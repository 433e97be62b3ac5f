"""Fixtures for dashboard tests: a pinned core key, a fake core, a signed-in window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.app.config import SrsConfig
from srs.wire import SigningKey
from tests.brokers import BrokerHandle
from tests.gui.helpers import OPERATOR, FakeCore, gui_config, operator_password


@pytest.fixture
def core_key() -> SigningKey:
    return SigningKey.generate("core")


@pytest.fixture
def gui_cfg(tmp_path: Path, core_key: SigningKey, srs_broker: BrokerHandle) -> SrsConfig:
    return gui_config(tmp_path, core_key, srs_broker)


@pytest.fixture
def fake_core(srs_broker: BrokerHandle, core_key: SigningKey) -> Iterator[FakeCore]:
    core = FakeCore(srs_broker.client_config("core", "core"), core_key)
    yield core
    core.close()


@pytest.fixture
def window(qtbot, gui_cfg: SrsConfig, srs_broker: BrokerHandle, fake_core: FakeCore) -> MainWindow:
    """A signed-in dashboard; core (fake) is up first, as in a real deployment."""
    creds = Credentials(srs_broker.host, srs_broker.port, OPERATOR, operator_password(srs_broker))
    worker = build_worker(gui_cfg, creds)
    win = MainWindow(gui_cfg.gui, worker)
    qtbot.addWidget(win)  # closing it at teardown stops the worker
    worker.start()
    qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
    return win
