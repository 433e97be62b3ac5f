"""The PySide6 6.12 guard: a busy GUI's many void Qt calls cannot exhaust None."""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtWidgets import QLabel

from gui.qt_compat import protect_none


def test_singletons_survive_many_void_calls_and_emits(qapp) -> None:
    label = QLabel()
    for i in range(50_000):  # more than None's / True's natural reference counts on 3.11
        label.setText(str(i % 7))  # a void method
        label.windowTitleChanged.emit("x")  # emit returns True
    assert label.text() == str(49_999 % 7)
    if protect_none():
        assert min(sys.getrefcount(None), sys.getrefcount(True)) > 1 << 39


def test_guard_applies_only_where_needed() -> None:
    assert not protect_none("6.11.0")
    assert protect_none(PySide6.__version__) == (
        sys.version_info < (3, 12) and PySide6.__version__.startswith("6.12."))
