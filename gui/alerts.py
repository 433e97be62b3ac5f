"""The alert banner: unacknowledged alerts grouped by incident, silent.

Alerts of one incident (the same person in the same restricted zone, the same camera
offline, rejection bursts) form one group: the banner shows the most severe, latest
group with how many alerts it holds and how many other groups wait. *Acknowledge*
(Ctrl+K) dismisses the group shown, *Acknowledge all* (Ctrl+Shift+K) every group.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.face_cache import FaceCache
from gui.wording import clock
from srs.wire import payloads

STYLE = {
    "critical": "background:#c0392b;color:white;",
    "warning": "background:#f39c12;",
    "info": "background:#d6eaf8;",
}
RANK = {"critical": 0, "warning": 1, "info": 2}
GroupKey = tuple[str, str | None, str | None]
MAX_SEEN = 10_000  # alert ids remembered against redelivery


def incident(alert: payloads.Alert) -> GroupKey:
    """What makes alerts one incident: kind, who or which camera, where."""
    return alert.kind, alert.person_key or alert.camera_id, alert.zone


FACE_PX = 48


class AlertBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.groups: dict[GroupKey, list[payloads.Alert]] = {}
        self._seen: set[str] = set()
        self.face = QLabel()  # the face of the person the alert names, when core has one
        self.face.hide()
        self.faces: FaceCache | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.ack = QPushButton("Acknowledge")
        self.ack.setShortcut("Ctrl+K")
        self.ack.setToolTip("Acknowledge this alert (Ctrl+K)")
        self.ack.clicked.connect(self.acknowledge)
        self.ack_all = QPushButton("Acknowledge all")
        self.ack_all.setShortcut("Ctrl+Shift+K")
        self.ack_all.setToolTip("Acknowledge every waiting alert (Ctrl+Shift+K)")
        self.ack_all.clicked.connect(self.acknowledge_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.face)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.ack)
        layout.addWidget(self.ack_all)
        self.hide()

    @property
    def pending(self) -> list[payloads.Alert]:
        """Every unacknowledged alert, oldest first."""
        return sorted((a for g in self.groups.values() for a in g), key=lambda a: a.at)

    def add(self, alert: payloads.Alert) -> None:
        if alert.alert_id in self._seen:
            return  # a redelivery, or the same alert from the sign-in answer
        if len(self._seen) >= MAX_SEEN:
            self._seen.clear()
        self._seen.add(alert.alert_id)
        self.groups.setdefault(incident(alert), []).append(alert)
        self._show()

    def shown(self) -> GroupKey | None:
        """The group on the banner: the most severe, then the latest."""
        if not self.groups:
            return None
        return min(
            self.groups,
            key=lambda k: (RANK[self.groups[k][-1].severity], -self.groups[k][-1].at),
        )

    def acknowledge(self) -> None:
        key = self.shown()
        if key is not None:
            del self.groups[key]
        self._show()

    def acknowledge_all(self) -> None:
        self.groups.clear()
        self._show()

    def _show(self) -> None:
        key = self.shown()
        if key is None:
            self.hide()
            return
        group = self.groups[key]
        alert = group[-1]
        times = f" (×{len(group)})" if len(group) > 1 else ""
        others = len(self.groups) - 1
        more = f"   (+{others} more)" if others else ""
        self.text.setText(
            f"<b>{alert.severity.upper()}</b> {clock(alert.at)} — {alert.message}{times}{more}"
        )
        self.ack_all.setVisible(others > 0)
        self.setStyleSheet(f"QFrame {{{STYLE[alert.severity]}}}")
        self.show_face()
        self.show()

    def use_faces(self, faces: FaceCache) -> None:
        self.faces = faces
        faces.changed.connect(lambda key: self.show_face())

    def show_face(self) -> None:
        """The face of the person the shown alert names (none: hidden)."""
        shown = self.shown()
        key = self.groups[shown][-1].person_key if shown is not None else None
        face = self.faces.best(key) if key and self.faces is not None else None
        if face is None:
            self.face.hide()
            return
        self.face.setPixmap(face.scaledToHeight(FACE_PX))
        self.face.show()
