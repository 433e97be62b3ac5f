"""'Faces to name': the anonymous identities around now, each shown by its best face.

A guard names a stranger by the face, not by "Unknown 3": select an identity and
press Name… or Merge into… (the operator actions of gui/operator_actions.py), or,
when one of its faces is someone else's, select that face and press "Not this
person": its track is split off into an identity of its own (``split_identity``).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.face_cache import Face, FaceCache
from gui.models import PeopleTableModel, clock
from srs.wire import commands

FACE_PX = 96
STRIP_PX = 64
KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def placeholder(px: int) -> QPixmap:
    """Grey square shown until (or unless) core has a face of the identity."""
    pixmap = QPixmap(px, px)
    pixmap.fill(QColor("#d5d8dc"))
    return pixmap


class FacesGallery(QWidget):
    name_requested = Signal(str)  # identity key
    merge_requested = Signal(str)
    command_requested = Signal(object)  # a command to send (split_identity)

    def __init__(self, people: PeopleTableModel, faces: FaceCache) -> None:
        super().__init__()
        self.people, self.faces = people, faces
        self._shown: list[tuple[str, str]] = []  # (key, label) in the grid
        hint = QLabel(
            "Strangers seen now, each by the best face core kept. Select one to name "
            "them or merge them into someone; select a face that is not theirs and "
            "press “Not this person” to split it off."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#34495e")
        self.grid = _icon_list(FACE_PX)
        self.grid.currentItemChanged.connect(lambda *_: self._show_strip())
        self.grid.itemDoubleClicked.connect(lambda _: self._name())
        self.strip = _icon_list(STRIP_PX)
        self.strip.setMaximumHeight(STRIP_PX + 48)
        self.name_button = QPushButton("Name…")
        self.merge_button = QPushButton("Merge into…")
        self.reject_button = QPushButton("Not this person")
        self.name_button.clicked.connect(self._name)
        self.merge_button.clicked.connect(self._merge)
        self.reject_button.clicked.connect(self._not_this_person)
        buttons = QHBoxLayout()
        for button in (self.name_button, self.merge_button, self.reject_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.empty = QLabel("No strangers around: nobody to name.")
        self.empty.setStyleSheet("color:#7f8c8d")
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.empty)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.strip)
        layout.addLayout(buttons)
        # People change every frame: rebuild at most twice a second, and only when the
        # set of strangers or their labels changed.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        for signal in (
            people.rowsInserted,
            people.rowsRemoved,
            people.dataChanged,
            people.modelReset,
        ):
            signal.connect(self._later)
        faces.changed.connect(self._face_arrived)
        self.refresh()

    def _later(self, *_: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def keys(self) -> list[str]:
        return [key for key, _ in self._shown]

    def refresh(self) -> None:
        strangers = sorted(
            ((p.person_key, p.label) for p in self.people.people() if p.identity == "unknown"),
            key=lambda kl: kl[1].casefold(),
        )
        self.empty.setVisible(not strangers)
        self._update_buttons(bool(strangers))
        if strangers == self._shown:
            return
        selected = self.selected_key()
        self._shown = strangers
        self.grid.clear()
        for key, label in strangers:
            item = QListWidgetItem(label)
            item.setData(KEY_ROLE, key)
            item.setIcon(self.faces.best(key) or placeholder(FACE_PX))
            self.grid.addItem(item)
            if key == selected:
                self.grid.setCurrentItem(item)
        if self.grid.currentItem() is None and self.grid.count():
            self.grid.setCurrentRow(0)  # the buttons act on someone from the start
        self._show_strip()

    def select(self, key: str) -> bool:
        for row in range(self.grid.count()):
            if self.grid.item(row).data(KEY_ROLE) == key:
                self.grid.setCurrentRow(row)
                return True
        return False

    def selected_key(self) -> str | None:
        item = self.grid.currentItem()
        return str(item.data(KEY_ROLE)) if item is not None else None

    def selected_face(self) -> Face | None:
        """The face chosen in the strip (default: the best one)."""
        key = self.selected_key()
        faces = self.faces.faces(key) if key else []
        row = max(0, self.strip.currentRow())
        return faces[row] if row < len(faces) else None

    def _face_arrived(self, key: str) -> None:
        for row in range(self.grid.count()):
            item = self.grid.item(row)
            if item.data(KEY_ROLE) == key:
                item.setIcon(self.faces.best(key) or placeholder(FACE_PX))
        if key == self.selected_key():
            self._show_strip()

    def _show_strip(self) -> None:
        self.strip.clear()
        key = self.selected_key()
        for face in self.faces.faces(key) if key else []:
            item = QListWidgetItem(f"{face.camera_id}\n{clock(face.seen_at)}")
            item.setIcon(face.pixmap)
            item.setToolTip(f"{face.camera_id} at {clock(face.seen_at)}")
            self.strip.addItem(item)
        if self.strip.count():
            self.strip.setCurrentRow(0)
        self._update_buttons(bool(self._shown))

    def _update_buttons(self, any_shown: bool) -> None:
        chosen = any_shown and self.selected_key() is not None
        self.name_button.setEnabled(chosen)
        self.merge_button.setEnabled(chosen)
        self.reject_button.setEnabled(chosen and self.selected_face() is not None)

    def _name(self) -> None:
        if key := self.selected_key():
            self.name_requested.emit(key)

    def _merge(self) -> None:
        if key := self.selected_key():
            self.merge_requested.emit(key)

    def _not_this_person(self) -> None:
        key, face = self.selected_key(), self.selected_face()
        if key is None or face is None or face.track_id is None:
            return
        self.command_requested.emit(
            commands.SplitIdentity(person_key=key, camera_id=face.camera_id, track_id=face.track_id)
        )


def _icon_list(px: int) -> QListWidget:
    view = QListWidget()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(QSize(px, px))
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setWordWrap(True)
    view.setGridSize(QSize(px + 28, px + 36))  # room for the label under the face
    view.setUniformItemSizes(True)
    return view
