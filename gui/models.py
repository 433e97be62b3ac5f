"""Table models (one QAbstractTableModel per table): cameras, people, events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from srs.wire import payloads

Index = QModelIndex | QPersistentModelIndex
ONLINE_COLOUR = QColor("#2e9d50")
OFFLINE_COLOUR = QColor("#c0392b")


def clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "—"


def age(at: float | None, now: float) -> str:
    if not at:
        return "never"
    seconds = max(0.0, now - at)
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


class _Table(QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def _changed_row(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))


class CameraTableModel(_Table):
    """Cameras from the site plan and from their retained status/heartbeats."""

    HEADERS = ("Camera", "Status", "FPS", "Last heartbeat", "Outbox")
    online_changed = Signal(str, bool)

    def __init__(self, offline_after_heartbeats: float = 3.0) -> None:
        super().__init__()
        self._factor = offline_after_heartbeats
        self._ids: list[str] = []
        self._status: dict[str, payloads.CameraStatus] = {}
        self._online: dict[str, bool] = {}
        self._now = time.time()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def camera_ids(self) -> list[str]:
        return list(self._ids)

    def is_online(self, camera_id: str) -> bool:
        return self._online.get(camera_id, False)

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

    def refresh(self, now: float | None = None) -> None:
        """Recompute online/offline from heartbeat ages (the window calls this each second)."""
        self._now = time.time() if now is None else now
        for row, camera_id in enumerate(self._ids):
            status = self._status.get(camera_id)
            online = (
                status is not None
                and status.state == "online"
                and (self._now - status.sent_at <= self._factor * status.heartbeat_interval_s)
            )
            if online != self._online.get(camera_id):
                self._online[camera_id] = online
                self.online_changed.emit(camera_id, online)
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
                return "online" if online else "offline"
            if status is None:
                return "—"
            return (f"{status.fps:.1f}", age(status.sent_at, self._now), str(status.outbox_depth))[
                col - 2
            ]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return ONLINE_COLOUR if online else OFFLINE_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole and status is not None and status.message:
            return status.message
        return None


class PeopleTableModel(_Table):
    """Who is where: one row per person key, from the retained positions."""

    HEADERS = ("Name", "Identity", "Zone", "Last seen", "Cameras")
    KEY_ROLE = Qt.ItemDataRole.UserRole + 1
    SORT_ROLE = Qt.ItemDataRole.UserRole + 2
    # Named people first, then strangers, then the unidentified (who can be many).
    RANK: ClassVar[dict[str, int]] = {"known": 0, "unknown": 1, "unidentified": 2}

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[str] = []
        self._rows: dict[str, int] = {}  # person key -> row
        self._people: dict[str, payloads.PersonPosition] = {}
        # A small face beside each name (gui/face_cache.py FaceCache.icon), if set.
        self.face_icon: Callable[[str], Any] | None = None

    def face_changed(self, person_key: str) -> None:
        """Repaint ``person_key``'s face (its crops arrived)."""
        row = self._rows.get(person_key)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

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
        if role == self.SORT_ROLE:
            col = index.column()
            if col in (0, 1):
                return f"{self.RANK[p.identity]} {p.label.casefold()}"
            return p.last_seen if col == 3 else self.data(index)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and self.face_icon:
            return self.face_icon(p.person_key)
        if role == Qt.ItemDataRole.DisplayRole:
            who = p.identity + evidence_note(p.evidence, p.evidence_age_s, p.candidate)
            return (p.label, who, p.zone or "—", clock(p.last_seen), ", ".join(p.cameras))[
                index.column()
            ]
        return None


def evidence_note(evidence: str | None, age_s: float | None, candidate: str | None) -> str:
    """How sure core is, shown after the identity: " (carried 2s)", " (possibly Ada)".

    Nothing for a fresh match or when core did not say (older cores)."""
    if evidence == "carried":
        return f" (carried {age_s:.0f}s)" if age_s is not None else " (carried)"
    if evidence == "possible":
        return f" (possibly {candidate})" if candidate else " (possible)"
    return ""


@dataclass(frozen=True, slots=True)
class EventRow:
    at: float
    kind: str  # sighting, enter, leave, alert
    person_key: str | None
    label: str
    place: str  # camera id or zone
    detail: str
    sighting_id: int | None = None
    identity: str | None = None  # known / unknown / unidentified; None for alerts


def event_from(payload: Any) -> EventRow:
    if isinstance(payload, payloads.Sighting):
        where = f" in {payload.zone}" if payload.zone else ""
        dist = f"distance {payload.distance:.2f}" if payload.distance is not None else ""
        return EventRow(
            payload.seen_at,
            "sighting",
            payload.person_key,
            payload.label,
            payload.camera_id,
            f"seen{where} {dist}".strip()
            + evidence_note(payload.evidence, payload.evidence_age_s, payload.candidate),
            payload.sighting_id,
            payload.identity,
        )
    if isinstance(payload, payloads.ZoneEvent):
        restricted = " (restricted)" if payload.restricted else ""
        return EventRow(
            payload.at,
            payload.action,
            payload.person_key,
            payload.label,
            payload.zone,
            f"{payload.action}s {payload.zone}{restricted}",
            identity=payload.identity,
        )
    if isinstance(payload, payloads.Alert):
        return EventRow(
            payload.at,
            "alert",
            payload.person_key,
            payload.person_key or "",
            payload.camera_id or payload.zone or "",
            payload.message,
        )
    raise TypeError(f"not an event: {type(payload).__name__}")


class EventTableModel(_Table):
    """The timeline, newest first, bounded; replaced by a history query's result."""

    HEADERS = ("Time", "Event", "Person", "Camera / zone", "Details")
    IDENTITY_ROLE = Qt.ItemDataRole.UserRole + 3

    def __init__(self, max_rows: int = 2000) -> None:
        super().__init__()
        self._rows: list[EventRow] = []
        self._max = max_rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def row(self, row: int) -> EventRow:
        return self._rows[row]

    def rows(self) -> list[EventRow]:
        return list(self._rows)

    def add(self, event: EventRow) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, event)
        self.endInsertRows()
        if len(self._rows) > self._max:
            self.beginRemoveRows(QModelIndex(), self._max, len(self._rows) - 1)
            del self._rows[self._max :]
            self.endRemoveRows()

    def set_rows(self, rows: Sequence[EventRow]) -> None:
        self.beginResetModel()
        self._rows = sorted(rows, key=lambda r: r.at, reverse=True)[: self._max]
        self.endResetModel()

    def relabel(self, person_key: str, label: str) -> None:
        for i, r in enumerate(self._rows):
            if r.person_key == person_key:
                self._rows[i] = replace(r, label=label)
                self._changed_row(i)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (clock(r.at), r.kind, r.label, r.place, r.detail)[index.column()]
        if role == self.IDENTITY_ROLE:
            return r.identity or ""
        if role == Qt.ItemDataRole.ForegroundRole and r.kind == "alert":
            return OFFLINE_COLOUR
        return None
