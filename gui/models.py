"""Table models (one QAbstractTableModel per table): cameras and people.

The timeline's model lives in gui/timeline.py; its names are re-exported here for
the modules that import them from this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt, Signal

from gui.table import OFFLINE_COLOUR, ONLINE_COLOUR, QUIET_COLOUR, Index
from gui.table import Table as _Table
from gui.timeline import EventRow as EventRow
from gui.timeline import EventTableModel as EventTableModel
from gui.timeline import event_from as event_from
from gui.wording import age, evidence_text, zone_name
from gui.wording import clock as clock
from gui.wording import evidence_note as evidence_note
from srs.wire import payloads


class CameraTableModel(_Table):
    """Cameras from the site plan and from their retained status/heartbeats."""

    HEADERS = ("Camera", "Status", "FPS", "Last heartbeat", "Outbox")
    online_changed = Signal(str, bool)
    state_changed = Signal(str, str)  # camera id, "online" / "offline" / "disabled"

    def __init__(self, offline_after_heartbeats: float = 3.0) -> None:
        super().__init__()
        self._factor = offline_after_heartbeats
        self._ids: list[str] = []
        self._status: dict[str, payloads.CameraStatus] = {}
        self._online: dict[str, bool] = {}
        self._disabled: set[str] = set()  # core withdrew the camera (disabled or removed)
        self._now = time.time()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def camera_ids(self) -> list[str]:
        return list(self._ids)

    def is_online(self, camera_id: str) -> bool:
        return self._online.get(camera_id, False)

    def state(self, camera_id: str) -> str:
        if camera_id in self._disabled:
            return "disabled"
        return "online" if self.is_online(camera_id) else "offline"

    def set_disabled(self, camera_id: str, disabled: bool) -> None:
        """Core withdrew (or vouches again for) the camera: a disabled camera is not
        online whatever its last status said, and says so."""
        if (camera_id in self._disabled) == disabled:
            return
        row = self._ensure(camera_id)
        if disabled:
            self._disabled.add(camera_id)
        else:
            self._disabled.discard(camera_id)
        self.refresh(self._now, changed=camera_id)
        self._changed_row(row)

    def _ensure(self, camera_id: str) -> int:
        if camera_id in self._ids:
            return self._ids.index(camera_id)
        row = len(self._ids)
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.append(camera_id)
        self._online[camera_id] = False
        self.endInsertRows()
        return row

    def add_cameras(self, camera_ids: Iterable[str]) -> None:
        for camera_id in camera_ids:
            self._ensure(camera_id)

    def update_status(self, status: payloads.CameraStatus, now: float | None = None) -> None:
        row = self._ensure(status.camera_id)
        self._status[status.camera_id] = status
        self._changed_row(row)
        self.refresh(now)

    def refresh(self, now: float | None = None, changed: str | None = None) -> None:
        """Recompute online/offline from heartbeat ages (the window calls this each second).

        ``changed``: a camera whose disabled flag just flipped (its state row is due)."""
        self._now = time.time() if now is None else now
        for row, camera_id in enumerate(self._ids):
            status = self._status.get(camera_id)
            online = (
                camera_id not in self._disabled
                and status is not None
                and status.state == "online"
                and (self._now - status.sent_at <= self._factor * status.heartbeat_interval_s)
            )
            if online != self._online.get(camera_id) or camera_id == changed:
                self._online[camera_id] = online
                self.online_changed.emit(camera_id, online)
                self.state_changed.emit(camera_id, self.state(camera_id))
            self.dataChanged.emit(self.index(row, 1), self.index(row, 3))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        camera_id = self._ids[index.row()]
        status = self._status.get(camera_id)
        online = self._online.get(camera_id, False)
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return camera_id
            if col == 1:
                return self.state(camera_id)
            if status is None:
                return "—"
            return (f"{status.fps:.1f}", age(status.sent_at, self._now), str(status.outbox_depth))[
                col - 2
            ]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            if camera_id in self._disabled:
                return QUIET_COLOUR
            return ONLINE_COLOUR if online else OFFLINE_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole and camera_id in self._disabled:
            return "core no longer vouches for this camera (disabled or removed): it is refused"
        if role == Qt.ItemDataRole.ToolTipRole and status is not None and status.message:
            return status.message
        return None


class PeopleTableModel(_Table):
    """Who is where: one row per person key, from the retained positions."""

    HEADERS = ("Name", "Identity", "Zone", "Last seen", "Cameras")
    KEY_ROLE = Qt.ItemDataRole.UserRole + 1
    SORT_ROLE = Qt.ItemDataRole.UserRole + 2
    IDENTITY_ROLE = Qt.ItemDataRole.UserRole + 3
    # Named people first, then strangers, then the unidentified (who can be many).
    RANK: ClassVar[dict[str, int]] = {"known": 0, "unknown": 1, "unidentified": 2}

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[str] = []
        self._rows: dict[str, int] = {}  # person key -> row
        self._people: dict[str, payloads.PersonPosition] = {}
        # A small face beside each name (gui/face_cache.py FaceCache.icon), if set.
        self.face_icon: Callable[[str], Any] | None = None
        self.zone_names: dict[str, str] = {}  # zone id -> name, from the site plan

    def face_changed(self, person_key: str) -> None:
        """Repaint ``person_key``'s face (its crops arrived)."""
        row = self._rows.get(person_key)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def set_zone_names(self, names: dict[str, str]) -> None:
        self.zone_names = dict(names)
        if self._keys:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._keys) - 1, 4))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def get(self, person_key: str) -> payloads.PersonPosition | None:
        return self._people.get(person_key)

    def key_at(self, row: int) -> str:
        return self._keys[row]

    def people(self) -> list[payloads.PersonPosition]:
        return [self._people[k] for k in self._keys]

    def apply(self, positions: Iterable[payloads.PersonPosition]) -> None:
        """Apply one frame's positions with one insert and one change notification (a
        sorted, filtered view re-sorts once per notification, not once per person)."""
        changed: list[int] = []
        new: list[payloads.PersonPosition] = []
        for pos in positions:
            if pos.gone:
                self.remove(pos.person_key)
            elif pos.person_key in self._people:
                self._people[pos.person_key] = pos
                changed.append(self._rows[pos.person_key])
            else:
                new.append(pos)
        if new:
            first = len(self._keys)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for pos in new:
                self._rows[pos.person_key] = len(self._keys)
                self._keys.append(pos.person_key)
                self._people[pos.person_key] = pos
            self.endInsertRows()
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(self.HEADERS) - 1)
            )

    def remove(self, person_key: str) -> None:
        if person_key not in self._people:
            return
        row = self._rows[person_key]
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._keys[row]
        del self._people[person_key]
        self._rows = {key: i for i, key in enumerate(self._keys)}
        self.endRemoveRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._people[self._keys[index.row()]]
        if role == self.KEY_ROLE:
            return p.person_key
        if role == self.IDENTITY_ROLE:
            return p.identity
        if role == self.SORT_ROLE:
            col = index.column()
            if col in (0, 1):
                return f"{self.RANK[p.identity]} {p.label.casefold()}"
            return p.last_seen if col == 3 else self.data(index)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and self.face_icon:
            return self.face_icon(p.person_key)
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                p.label,
                identity_text(p),
                zone_name(p.zone, self.zone_names),
                clock(p.last_seen),
                ", ".join(p.cameras),
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and p.identity == "unidentified":
            return QUIET_COLOUR
        return None


def identity_text(p: payloads.PersonPosition) -> str:
    """ "known, matched", "unknown, carried 4 s", "unidentified": who and how sure."""
    how = evidence_text(p.evidence, p.evidence_age_s, p.candidate, p.identity)
    return p.identity if how in ("—", p.identity) else f"{p.identity}, {how}"
