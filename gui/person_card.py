"""A person's card: their best faces, last seen, zone, cameras and recent sightings."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.face_cache import FaceCache
from gui.models import EventRow, clock
from gui.timeline import NO_ZONES
from gui.wording import evidence_text, zone_name
from srs.wire import payloads

FACE_PX = 84
FACES_SHOWN = 5


class PersonCard(QDialog):
    name_requested = Signal(str)  # person key
    merge_requested = Signal(str)

    def __init__(
        self,
        pos: payloads.PersonPosition,
        events: list[EventRow],
        parent: QWidget | None = None,
        faces: FaceCache | None = None,
        zones: Mapping[str, str] = NO_ZONES,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Person — {pos.label}")
        self.person_key = pos.person_key
        # The faces core kept (best first), filled in when they arrive.
        self.face_strip = QHBoxLayout()
        self.face_strip.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.face_labels: list[QLabel] = []
        self.faces = faces
        if faces is not None:
            faces.changed.connect(self._faces_changed)
        form = QFormLayout()
        form.addRow("Name", QLabel(f"<b>{pos.label}</b>"))
        form.addRow("Identity", QLabel(f"{pos.identity} ({pos.person_key})"))
        form.addRow("Zone", QLabel(zone_name(pos.zone, zones)))
        form.addRow("Last seen", QLabel(clock(pos.last_seen)))
        how = evidence_text(pos.evidence, pos.evidence_age_s, pos.candidate, pos.identity)
        form.addRow("Identified", QLabel(how))  # the evidence, not a bare confidence
        form.addRow("Position", QLabel(f"x {pos.x:.1f} m, y {pos.y:.1f} m"))
        form.addRow("Cameras", QLabel(", ".join(pos.cameras) or "—"))
        self.sightings = QListWidget()
        for row in [e for e in events if e.person_key == pos.person_key][:20]:
            self.sightings.addItem(f"{clock(row.at)}  {row.kind:<8} {row.place}  {row.detail}")
        if self.sightings.count() == 0:
            self.sightings.addItem("no recent sightings in the timeline")
        layout = QVBoxLayout(self)
        layout.addLayout(self.face_strip)
        layout.addLayout(form)
        layout.addWidget(QLabel("Recent sightings"))
        layout.addWidget(self.sightings)
        buttons = QHBoxLayout()
        self.name_button = QPushButton("Rename…" if pos.identity == "known" else "Name…")
        self.merge_button = QPushButton("Merge into…")
        self.name_button.clicked.connect(lambda: self.name_requested.emit(self.person_key))
        self.merge_button.clicked.connect(lambda: self.merge_requested.emit(self.person_key))
        buttons.addWidget(self.name_button)
        buttons.addWidget(self.merge_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.resize(480, 480)
        self.show_faces()

    def _faces_changed(self, key: str) -> None:
        if key == self.person_key:
            self.show_faces()

    def show_faces(self) -> None:
        """Show the cached faces of this person (asking core for them if due)."""
        for label in self.face_labels:
            self.face_strip.removeWidget(label)
            label.deleteLater()
        self.face_labels = []
        faces = self.faces.faces(self.person_key) if self.faces is not None else []
        for face in faces[:FACES_SHOWN]:
            label = QLabel()
            label.setPixmap(
                face.pixmap.scaled(
                    FACE_PX,
                    FACE_PX,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            label.setToolTip(f"{face.camera_id} at {clock(face.seen_at)}")
            self.face_labels.append(label)
            self.face_strip.addWidget(label)
        if not faces:
            label = QLabel("no face stored yet" if self.faces is not None else "")
            label.setStyleSheet("color:#7f8c8d")
            self.face_labels.append(label)
            self.face_strip.addWidget(label)
