"""The alert banner: the latest unacknowledged alert, silent, acknowledged by a click."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.face_cache import FaceCache
from gui.models import clock
from srs.wire import payloads

STYLE = {
    "critical": "background:#c0392b;color:white;",
    "warning": "background:#f39c12;",
    "info": "background:#d6eaf8;",
}


FACE_PX = 48


class AlertBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pending: list[payloads.Alert] = []
        self.face = QLabel()  # the face of the person the alert names, when core has one
        self.face.hide()
        self.faces: FaceCache | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.ack = QPushButton("Acknowledge")
        self.ack.setShortcut("Ctrl+K")
        self.ack.setToolTip("Acknowledge this alert (Ctrl+K)")
        self.ack.clicked.connect(self.acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.face)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.ack)
        self.hide()

    def add(self, alert: payloads.Alert) -> None:
        if any(a.alert_id == alert.alert_id for a in self.pending):
            return
        self.pending.append(alert)
        self._show_latest()

    def acknowledge(self) -> None:
        if self.pending:
            self.pending.pop()
        self._show_latest()

    def _show_latest(self) -> None:
        if not self.pending:
            self.hide()
            return
        alert = self.pending[-1]
        more = f"   (+{len(self.pending) - 1} more)" if len(self.pending) > 1 else ""
        self.text.setText(
            f"<b>{alert.severity.upper()}</b> {clock(alert.at)} — {alert.message}{more}"
        )
        self.setStyleSheet(f"QFrame {{{STYLE[alert.severity]}}}")
        self.show_face()
        self.show()

    def use_faces(self, faces: FaceCache) -> None:
        self.faces = faces
        faces.changed.connect(lambda key: self.show_face())

    def show_face(self) -> None:
        """The face of the person the shown alert names (none: hidden)."""
        key = self.pending[-1].person_key if self.pending else None
        face = self.faces.best(key) if key and self.faces is not None else None
        if face is None:
            self.face.hide()
            return
        self.face.setPixmap(face.scaledToHeight(FACE_PX))
        self.face.show()
