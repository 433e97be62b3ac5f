"""A dashboard window on a worker that records what it would send (no broker)."""

from __future__ import annotations

from typing import Any

from gui import mqtt_worker as mw
from gui.config import GuiConfig
from gui.core_key import CoreKey
from gui.inbox import Inbox
from gui.main_window import MainWindow
from srs.config import MqttConfig, SecurityConfig
from srs.wire import commands, payloads

OPERATOR = "alice-op"


class RecordingWorker(mw.MqttWorker):
    """A real worker, never started, whose ``send`` records the commands instead of
    publishing them (or, when ``online`` is False, refuses as a disconnected one)."""

    def __init__(self) -> None:
        sec = SecurityConfig()
        inbox = Inbox(CoreKey(None, sec), sec, OPERATOR)
        super().__init__(MqttConfig(), sec, inbox, user=OPERATOR, password="unused")
        self.sent: list[Any] = []
        # The face cache asks for faces in the background (gui/face_cache.py): kept
        # apart from what the operator's actions send.
        self.face_requests: list[commands.GetFaces] = []
        self.online = True
        self.keys_registered = 0
        # Positions the next frame takes (None: the retained position was cleared).
        self.positions: dict[str, payloads.PersonPosition | None] = {}

    def send(self, command: Any) -> str:
        if not self.online:
            return super().send(command)
        if isinstance(command, commands.GetFaces):
            self.face_requests.append(command)
            return f"f{len(self.face_requests)}"
        self.sent.append(command)
        return f"r{len(self.sent)}"

    def register_key(self) -> None:
        self.keys_registered += 1

    def take_positions(self) -> dict[str, payloads.PersonPosition | None]:
        out, self.positions = self.positions, {}
        return out


def desk(qtbot: Any, gui: GuiConfig | None = None) -> tuple[MainWindow, RecordingWorker]:
    """A window showing a recording worker's session (closed by qtbot at teardown)."""
    worker = RecordingWorker()
    win = MainWindow(gui or GuiConfig(), worker)
    qtbot.addWidget(win)
    return win, worker
