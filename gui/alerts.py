"""The alert banner: the latest unacknowledged alert, silent, acknowledged by a click."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.models import clock
from srs.wire import payloads

STYLE = {
    "critical": "background:#c0392b;color:white;",
    "warning": "background:#f39c12;",
    "info": "background:#d6eaf8;",
}


class AlertBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pending: list[payloads.Alert] = []
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.ack = QPushButton("Acknowledge")
        self.ack.setShortcut("Ctrl+K")
        self.ack.setToolTip("Acknowledge this alert (Ctrl+K)")
        self.ack.clicked.connect(self.acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
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
        self.show()
