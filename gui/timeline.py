"""The timeline: what happened, in time order, newest first.

Events (zone enters and leaves, alerts, namings, cameras going up or down) are what
a guard reads; raw sightings arrive many per second and are shown only on request
(``TimelineFilter.show_sightings``). Rows are kept sorted by their own time, not by
arrival: messages of several cameras and core's commits arrive out of order.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt

from gui.table import OFFLINE_COLOUR, QUIET_COLOUR, Index, Table, refilter
from gui.wording import clock, evidence_note, zone_name
from srs.wire import payloads

NO_ZONES: Mapping[str, str] = {}
# What each kind of row is called in the "Event" column.
KIND_WORDS = {
    "sighting": "sighting",
    "enter": "entered",
    "leave": "left",
    "alert": "ALERT",
    "named": "named",
    "camera": "camera",
}


@dataclass(frozen=True, slots=True)
class EventRow:
    at: float
    kind: str  # sighting, enter, leave, alert, named, camera
    person_key: str | None
    label: str
    place: str  # camera id or zone name
    detail: str
    sighting_id: int | None = None
    identity: str | None = None  # known / unknown / unidentified; None for alerts


def event_from(payload: Any, zones: Mapping[str, str] = NO_ZONES) -> EventRow:
    """A timeline row for a sighting, zone event or alert; zones by their names."""
    if isinstance(payload, payloads.Sighting):
        where = f" in {zone_name(payload.zone, zones)}" if payload.zone else ""
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
        name = zone_name(payload.zone, zones)
        restricted = " (restricted)" if payload.restricted else ""
        verb = "entered" if payload.action == "enter" else "left"
        return EventRow(
            payload.at,
            payload.action,
            payload.person_key,
            payload.label,
            name,
            f"{verb} {name}{restricted}",
            identity=payload.identity,
        )
    if isinstance(payload, payloads.Alert):
        return EventRow(
            payload.at,
            "alert",
            payload.person_key,
            payload.person_key or "",
            payload.camera_id or (zone_name(payload.zone, zones) if payload.zone else ""),
            payload.message,
        )
    raise TypeError(f"not an event: {type(payload).__name__}")


def camera_row(camera_id: str, state: str, at: float) -> EventRow:
    """A camera came online, went offline or was disabled."""
    return EventRow(at, "camera", None, camera_id, camera_id, state)


def named_row(person_key: str, old_label: str, name: str, at: float) -> EventRow:
    """An operator named a person (this desk's action, once core accepted it)."""
    return EventRow(at, "named", person_key, name, "", f"{old_label} is now {name}", None, "known")


class EventTableModel(Table):
    """The timeline, newest first, bounded; replaced by a history query's result."""

    HEADERS = ("Time", "Event", "Person", "Camera / zone", "Details")
    IDENTITY_ROLE = Qt.ItemDataRole.UserRole + 3
    KIND_ROLE = Qt.ItemDataRole.UserRole + 4

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
        """Insert at the event's place in time (newest first); the oldest fall off."""
        at = bisect.bisect_left(self._rows, -event.at, key=lambda r: -r.at)
        if at >= self._max:
            return  # older than everything kept
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, event)
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
            kind = KIND_WORDS.get(r.kind, r.kind)
            return (clock(r.at), kind, r.label, r.place, r.detail)[index.column()]
        if role == self.IDENTITY_ROLE:
            return r.identity or ""
        if role == self.KIND_ROLE:
            return r.kind
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.kind == "alert":
                return OFFLINE_COLOUR
            if r.identity == "unidentified":
                return QUIET_COLOUR
        return None


class TimelineFilter(QSortFilterProxyModel):
    """Which rows the timeline shows: events always; sightings when asked for;
    unidentified people's rows unless hidden."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show_sightings = False
        self.hide_unidentified = False

    def set_show_sightings(self, on: bool) -> None:
        self.show_sightings = on
        refilter(self)

    def set_hide_unidentified(self, on: bool) -> None:
        self.hide_unidentified = on
        refilter(self)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        if not self.show_sightings and model.data(index, EventTableModel.KIND_ROLE) == "sighting":
            return False
        identity = model.data(index, EventTableModel.IDENTITY_ROLE)
        return not (self.hide_unidentified and identity == "unidentified")
