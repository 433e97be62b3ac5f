"""The alert banners: unacknowledged alerts grouped by incident, silent.

Security alerts (someone where they should not be, forged or flooding messages) and
operational ones (a camera offline, core cannot write its database) have a banner
each, one above the other, so a guard never reads a full disk as an intrusion nor
misses an intrusion under a disk alarm (:func:`category`).

Alerts of one incident (the same person in the same restricted zone, the same camera
offline, rejection bursts) form one group: a banner shows the most severe, latest
group with how many alerts it holds and how many other groups wait. *Acknowledge*
dismisses the group shown, *Acknowledge all* every group (security: Ctrl+K and
Ctrl+Shift+K; operational: Ctrl+Alt+K and Ctrl+Alt+Shift+K).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.face_cache import FaceCache
from gui.wording import alert_heading, clock
from srs.wire import payloads

STYLE = {
    "critical": "background:#c0392b;color:white;",
    "warning": "background:#f39c12;",
    "info": "background:#d6eaf8;",
}
RANK = {"critical": 0, "warning": 1, "info": 2}
GroupKey = tuple[str, str | None, str | None]
MAX_SEEN = 10_000  # alert ids remembered against redelivery
# What an older core's alerts (no category) are: SRS's own trouble, by kind.
OPERATIONAL_KINDS = frozenset({"camera_offline", "store_error"})


def category(alert: payloads.Alert) -> str:
    """ "security" or "operational": core's word for it, else by kind (older cores)."""
    if alert.category is not None:
        return alert.category
    return "operational" if alert.kind in OPERATIONAL_KINDS else "security"


def incident(alert: payloads.Alert) -> GroupKey:
    """What makes alerts one incident: kind, who or which camera, where."""
    return alert.kind, alert.person_key or alert.camera_id, alert.zone


FACE_PX = 48


class AlertBanner(QFrame):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        heading: str = "",
        keys: tuple[str, str] = ("Ctrl+K", "Ctrl+Shift+K"),
    ) -> None:
        super().__init__(parent)
        self.heading = heading  # "Security", "System": which banner this is
        self.groups: dict[GroupKey, list[payloads.Alert]] = {}
        self._seen: set[str] = set()
        self.face = QLabel()  # the face of the person the alert names, when core has one
        self.face.hide()
        self.faces: FaceCache | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.ack = QPushButton("Acknowledge")
        self.ack.setShortcut(keys[0])
        self.ack.setToolTip(f"Acknowledge this alert ({keys[0]})")
        self.ack.clicked.connect(self.acknowledge)
        self.ack_all = QPushButton("Acknowledge all")
        self.ack_all.setShortcut(keys[1])
        self.ack_all.setToolTip(f"Acknowledge every waiting alert ({keys[1]})")
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
        head = f"<b>{self.heading}</b> · " if self.heading else ""
        self.text.setText(
            f"{head}<b>{alert.severity.upper()}</b> {clock(alert.at)} — "
            f"{alert.message}{times}{more}"
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


class AlertBanners(QWidget):
    """The security banner above the operational one; each alert goes to its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.security = AlertBanner(heading=alert_heading("security"))
        self.operational = AlertBanner(
            heading=alert_heading("operational"), keys=("Ctrl+Alt+K", "Ctrl+Alt+Shift+K")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.security)
        layout.addWidget(self.operational)

    def add(self, alert: payloads.Alert) -> None:
        self.banner_for(alert).add(alert)

    def banner_for(self, alert: payloads.Alert) -> AlertBanner:
        return self.operational if category(alert) == "operational" else self.security

    def use_faces(self, faces: FaceCache) -> None:
        self.security.use_faces(faces)
        self.operational.use_faces(faces)
