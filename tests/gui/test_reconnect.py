"""The dashboard says "reconnecting…" when the broker goes away and comes back by itself."""

from __future__ import annotations

from pathlib import Path

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.config import SrsConfig
from srs.wire import SigningKey
from tests import brokers
from tests.gui.helpers import OPERATOR, gui_config, operator_password


def test_broker_restart_shows_reconnecting_then_connected(qtbot, tmp_path: Path,
                                                          core_key: SigningKey) -> None:
    data_dir = tmp_path / "broker"
    with brokers.embedded_broker(data_dir) as handle:
        cfg = gui_config(tmp_path, core_key, handle)
        worker = build_worker(cfg, Credentials(handle.host, handle.port, OPERATOR,
                                               operator_password(handle)))
        window = MainWindow(cfg.gui, worker)
        qtbot.addWidget(window)
        worker.start()
        qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
    qtbot.waitUntil(lambda: mw.RECONNECTING in window.connection.text(), timeout=10_000)
    again = SrsConfig(data_dir=data_dir, broker=BrokerConfig(bind="127.0.0.1", port=handle.port))
    with EmbeddedBroker(again):
        qtbot.waitUntil(lambda: f"{mw.CONNECTED} —" in window.connection.text(),
                        timeout=20_000)
        worker.stop()  # before the broker stops: its shutdown waits on connected clients
