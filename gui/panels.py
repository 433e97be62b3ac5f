"""The side panels: cameras, people (with a filter) and the event timeline (with search)."""

from __future__ import annotations

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

from gui.models import CameraTableModel, EventTableModel, PeopleTableModel
from srs.wire import commands


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


class PeoplePanel(QWidget):
    def __init__(self, model: PeopleTableModel) -> None:
        super().__init__()
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)

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
        self.person.setPlaceholderText("person (p3, u7)")
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
        self.live.clicked.connect(self.live_requested)
        self.hide_unidentified = QCheckBox("hide unidentified")
        self.hide_unidentified.setToolTip("Unidentified profiles can be many; hide their rows")
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterRole(EventTableModel.IDENTITY_ROLE)
        self.proxy.setFilterKeyColumn(0)
        self.hide_unidentified.toggled.connect(
            lambda on: self.proxy.setFilterRegularExpression("^(?!unidentified$)" if on else "")
        )
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
        return commands.QueryHistory(
            person_key=self.person.text().strip() or None,
            camera_id=self.camera.text().strip() or None,
            since=self.since.dateTime().toSecsSinceEpoch() if ranged else None,
            until=self.until.dateTime().toSecsSinceEpoch() if ranged else None,
        )

    def _search(self) -> None:
        self.search_requested.emit(self.query())

    def selected_row(self) -> int | None:
        """The selected event's row in the model (not in the filtered view)."""
        rows = self.view.selectionModel().selectedRows()
        return self.proxy.mapToSource(rows[0]).row() if rows else None
