"""Enter in a dialog does what its highlighted button says, never Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.first_admin import FirstAdminDialog
from gui.signin import SignInDialog
from srs.app.config import SrsConfig
from tests.gui.helpers import OPERATOR


def test_enter_in_the_sign_in_form_submits_it(qtbot: QtBot, gui_cfg: SrsConfig) -> None:
    dialog = SignInDialog(gui_cfg, OPERATOR, None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.user.setText("")  # an invalid form: submitting says why, the dialog stays
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.message.text()))
    assert dialog.isVisible()
    assert "user name" in dialog.message.text()


def test_enter_in_the_first_admin_form_submits_it(qtbot: QtBot, gui_cfg: SrsConfig) -> None:
    dialog = FirstAdminDialog(gui_cfg.mqtt, gui_cfg.security, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog.code, Qt.Key.Key_Return)  # an empty form: it says what is missing
    qtbot.waitUntil(lambda: bool(dialog.message.text()))
    assert dialog.isVisible()
