"""gui/table.py: the table models' shared headers, row notices and re-filtering."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt

from gui.table import Index, Table, refilter


class Letters(Table):
    HEADERS = ("Letter", "Code")

    def __init__(self, rows: list[str]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        letter = self.rows[index.row()]
        return letter if index.column() == 0 else str(ord(letter))


class Vowels(QSortFilterProxyModel):
    only_vowels = False

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        text = self.sourceModel().index(source_row, 0, source_parent).data()
        return not self.only_vowels or text in "aeiou"


def test_headers_come_from_the_class(qapp: object) -> None:
    model = Letters(["a", "b"])
    assert model.columnCount() == 2
    assert model.columnCount(model.index(0, 0)) == 0  # no children
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Code"
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) is None


def test_a_changed_row_notifies_every_column(qapp: object) -> None:
    model = Letters(["a", "b"])
    seen: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, *_: seen.append(
            (top.row(), top.column(), bottom.row(), bottom.column())
        )
    )
    model._changed_row(1)
    assert seen == [(1, 0, 1, 1)]


def test_refilter_applies_a_proxys_new_criteria(qapp: object) -> None:
    proxy = Vowels()
    proxy.setSourceModel(Letters(["a", "b", "e"]))
    assert proxy.rowCount() == 3
    proxy.only_vowels = True
    refilter(proxy)
    assert proxy.rowCount() == 2
