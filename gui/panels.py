"""The side panels: cameras, people (with a filter) and the event timeline (with search)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import QDateTime, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models import CameraTableModel, PeopleTableModel
from gui.table import Index, refilter
from gui.timeline import EventTableModel, TimelineFilter
from gui.wording import zone_name
from srs.wire import commands

# A person key as core writes it (p3, u7); anything else typed is a name.
PERSON_KEY = re.compile(r"^[pu][0-9]{1,18}$")


def table(model: object) -> QTableView:
    view = QTableView()
    view.setModel(model)  # type: ignore[arg-type]
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.verticalHeader().hide()
    view.setAlternatingRowColors(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class CamerasPanel(QWidget):
    def __init__(self, model: CameraTableModel) -> None:
        super().__init__()
        self.model = model
        self.view = table(model)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)

    def selected_camera(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.camera_ids()[rows[0].row()] if rows else None


class PeopleFilter(QSortFilterProxyModel):
    """The filter text (any column) and, unless asked for, no unidentified rows:
    they are grouped in one line under the table instead."""

    show_unidentified = False

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self.show_unidentified:
            index = self.sourceModel().index(source_row, 0, source_parent)
            if self.sourceModel().data(index, PeopleTableModel.IDENTITY_ROLE) == "unidentified":
                return False
        return super().filterAcceptsRow(source_row, source_parent)


def unidentified_summary(model: PeopleTableModel) -> str:
    """ "12 unidentified: Corridor 8, Classroom 4" (empty when there are none)."""
    where: Counter[str] = Counter()
    for p in model.people():
        if p.identity == "unidentified":
            where[zone_name(p.zone, model.zone_names) if p.zone else "no zone"] += 1
    if not where:
        return ""
    places = ", ".join(f"{z} {n}" for z, n in where.most_common())
    return f"{sum(where.values())} unidentified: {places}"


class PeoplePanel(QWidget):
    def __init__(self, model: PeopleTableModel) -> None:
        super().__init__()
        self.model = model
        self.proxy = PeopleFilter(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # any column: name, zone, camera...
        self.proxy.setSortRole(PeopleTableModel.SORT_ROLE)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, zone or camera  (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = table(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.unidentified = QLabel("")
        self.unidentified.setStyleSheet("color:#8a8f98")
        self.show_unidentified = QCheckBox("list them")
        self.show_unidentified.toggled.connect(self._show_unidentified)
        group = QHBoxLayout()
        group.addWidget(self.unidentified, 1)
        group.addWidget(self.show_unidentified)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)
        layout.addLayout(group)
        for sig in (model.rowsInserted, model.rowsRemoved, model.dataChanged):
            sig.connect(self.refresh_summary)

    def _show_unidentified(self, on: bool) -> None:
        self.proxy.show_unidentified = on
        refilter(self.proxy)

    def refresh_summary(self, *_: object) -> None:
        self.unidentified.setText(unidentified_summary(self.model))

    def select(self, person_key: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, PeopleTableModel.KEY_ROLE) == person_key:
                self.view.selectRow(row)
                return

    def selected_key(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return str(self.proxy.data(rows[0], PeopleTableModel.KEY_ROLE))


class EventsPanel(QWidget):
    """Live timeline; "Search" asks core for history (person, camera, time range)."""

    search_requested = Signal(object)  # commands.QueryHistory
    live_requested = Signal()

    def __init__(self, model: EventTableModel) -> None:
        super().__init__()
        self.model = model
        self.person = QLineEdit()
        self.person.setPlaceholderText("person (name, p3, u7)")
        # A name shown on this desk -> its key ("Unknown 7" -> u7); set by the window.
        self.resolve: Callable[[str], str | None] = lambda name: None
        self.camera = QLineEdit()
        self.camera.setPlaceholderText("camera id")
        now = QDateTime.currentDateTime()
        self.use_range = QCheckBox("from")
        self.since = QDateTimeEdit(now.addSecs(-3600))
        self.until = QDateTimeEdit(now)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM HH:mm")
        self.search = QPushButton("Search")
        self.live = QPushButton("Live")
        self.search.clicked.connect(self._search)
        self.person.returnPressed.connect(self._search)
        self.live.clicked.connect(self.live_requested)
        self.hide_unidentified = QCheckBox("hide unidentified")
        self.hide_unidentified.setToolTip("Unidentified profiles can be many; hide their rows")
        self.show_sightings = QCheckBox("sightings")
        self.show_sightings.setToolTip(
            "Also show every raw sighting (many per second); events are always shown"
        )
        self.proxy = TimelineFilter(self)
        self.proxy.setSourceModel(model)
        self.hide_unidentified.toggled.connect(self.proxy.set_hide_unidentified)
        self.show_sightings.toggled.connect(self.proxy.set_show_sightings)
        self.mode = QLabel("live")
        self.mode.setStyleSheet("font-weight:bold")
        row = QHBoxLayout()
        widgets: tuple[QWidget, ...] = (
            QLabel("Timeline"),
            self.mode,
            self.person,
            self.camera,
            self.search,
            self.live,
        )
        for w in widgets:
            row.addWidget(w)
        row2 = QHBoxLayout()
        for w in (self.use_range, self.since, QLabel("to"), self.until):
            row2.addWidget(w)
        row2.addStretch(1)
        row2.addWidget(self.show_sightings)
        row2.addWidget(self.hide_unidentified)
        self.view = table(self.proxy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addWidget(self.view)

    def query(self) -> commands.QueryHistory:
        """The history query the form describes (raises ValueError for bad ids)."""
        ranged = self.use_range.isChecked()
        who = " ".join(self.person.text().split())
        key = who if PERSON_KEY.match(who) else self.resolve(who) if who else None
        return commands.QueryHistory(
            person_key=key,
            person_name=who if who and key is None else None,
            camera_id=self.camera.text().strip() or None,
            since=self.since.dateTime().toSecsSinceEpoch() if ranged else None,
            until=self.until.dateTime().toSecsSinceEpoch() if ranged else None,
        )

    def _search(self) -> None:
        try:
            query = self.query()
        except ValueError as exc:  # pydantic's ValidationError is one
            self.mode.setText(f"cannot search: {str(exc).splitlines()[-1].strip()}")
            return
        self.search_requested.emit(query)

    def set_history(self, on: bool) -> None:
        """A history answer is sightings: show them whatever the live toggle says."""
        self.proxy.set_show_sightings(on or self.show_sightings.isChecked())

    def selected_row(self) -> int | None:
        """The selected event's row in the model (not in the filtered view)."""
        rows = self.view.selectionModel().selectedRows()
        return self.proxy.mapToSource(rows[0]).row() if rows else None
