"""The dashboard says "reconnecting…" when its link to the broker drops, and comes back
by itself. The link runs through a small TCP relay the test can cut and restore, so
the real broker keeps running (as when a desk PC's network blips)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.config import SrsConfig
from tests.brokers import BrokerHandle
from tests.gui.helpers import OPERATOR, operator_password


class Relay:
    """Forwards 127.0.0.1:<port> to the broker; ``cut()`` drops every connection and
    refuses new ones until ``restore()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = threading.Event()
        self.up.set()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.server.close()


@pytest.fixture
def relay(srs_broker: BrokerHandle) -> Iterator[Relay]:
    r = Relay((srs_broker.host, srs_broker.port))
    yield r
    r.close()


def test_lost_link_shows_reconnecting_then_connected(qtbot, gui_cfg: SrsConfig,
                                                     srs_broker: BrokerHandle,
                                                     relay: Relay) -> None:
    worker = build_worker(gui_cfg, Credentials("127.0.0.1", relay.port, OPERATOR,
                                               operator_password(srs_broker)))
    window = MainWindow(gui_cfg.gui, worker)
    qtbot.addWidget(window)
    worker.start()
    qtbot.waitUntil(lambda: f"{mw.CONNECTED} —" in window.connection.text(), timeout=10_000)
    relay.cut()
    qtbot.waitUntil(lambda: mw.RECONNECTING in window.connection.text(), timeout=10_000)
    relay.restore()
    qtbot.waitUntil(lambda: f"{mw.CONNECTED} —" in window.connection.text(), timeout=20_000)
