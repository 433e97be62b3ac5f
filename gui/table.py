"""The base of the dashboard's table models: headers and row change notices."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex
ONLINE_COLOUR = QColor("#2e9d50")
OFFLINE_COLOUR = QColor("#c0392b")
QUIET_COLOUR = QColor("#8a8f98")  # disabled cameras, the unidentified


class Table(QAbstractTableModel):
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


def refilter(proxy: QSortFilterProxyModel) -> None:
    """Re-run a proxy's filter after its own criteria changed (Qt 6.10 replaced
    invalidateFilter with begin/endFilterChange; older Qt has only the former)."""
    begin = getattr(proxy, "beginFilterChange", None)
    if begin is None:
        proxy.invalidateFilter()
        return
    begin()
    proxy.endFilterChange()
