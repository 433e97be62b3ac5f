"""The dashboard says "reconnecting…" when its link to the broker drops, and comes back
by itself. The link runs through a small TCP relay the test can cut and restore, so
the real broker keeps running (as when a desk PC's network blips)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.app.config import SrsConfig
from tests.brokers import BrokerHandle, Relay
from tests.gui.helpers import OPERATOR, operator_password


@pytest.fixture
def relay(srs_broker: BrokerHandle) -> Iterator[Relay]:
    r = Relay((srs_broker.host, srs_broker.port))
    yield r
    r.close()


def test_lost_link_shows_reconnecting_then_connected(
    qtbot, gui_cfg: SrsConfig, srs_broker: BrokerHandle, relay: Relay
) -> None:
    worker = build_worker(
        gui_cfg, Credentials("127.0.0.1", relay.port, OPERATOR, operator_password(srs_broker))
    )
    window = MainWindow(gui_cfg.gui, worker)
    qtbot.addWidget(window)
    worker.start()
    qtbot.waitUntil(lambda: f"{mw.CONNECTED} —" in window.connection.text(), timeout=10_000)
    relay.cut()
    qtbot.waitUntil(lambda: mw.RECONNECTING in window.connection.text(), timeout=10_000)
    relay.restore()
    qtbot.waitUntil(lambda: f"{mw.CONNECTED} —" in window.connection.text(), timeout=20_000)
