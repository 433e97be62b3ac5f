"""Signing in against a real broker: connected, wrong password, unreachable broker."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from gui import mqtt_worker as mw
from gui.signin import SignInDialog
from srs.app.config import SrsConfig
from tests.brokers import BrokerHandle, free_port
from tests.gui.helpers import OPERATOR, operator_password


def _dialog(qtbot, cfg: SrsConfig, password: str, port: int | None = None) -> SignInDialog:
    dialog = SignInDialog(cfg, OPERATOR, password)
    qtbot.addWidget(dialog)
    if port is not None:
        dialog.port.setValue(port)
    dialog.submit()
    return dialog


def test_operator_signs_in_and_reaches_connected(
    qtbot, gui_cfg: SrsConfig, srs_broker: BrokerHandle
) -> None:
    dialog = _dialog(qtbot, gui_cfg, operator_password(srs_broker))
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=10_000)
    assert dialog.worker is not None and dialog.worker.state == mw.CONNECTED
    assert dialog.worker.client_id.startswith(f"{OPERATOR}:gui-")
    dialog.worker.stop()


def test_wrong_password_shows_the_brokers_refusal(
    qtbot, gui_cfg: SrsConfig, srs_broker: BrokerHandle
) -> None:
    operator_password(srs_broker)  # the user exists with its real password
    dialog = _dialog(qtbot, gui_cfg, "not-the-password")
    qtbot.waitUntil(
        lambda: dialog.worker is None or dialog.worker.state == mw.CONNECTED, timeout=10_000
    )
    accepted = dialog.worker
    if accepted is not None:
        accepted.stop()  # leave no client running, then fail: this is the regression
    assert accepted is None, "the broker accepted a wrong password"
    assert "refused the user name or password" in dialog.message.text()
    assert dialog.sign_in.isEnabled()


def test_unreachable_broker_says_so(qtbot, gui_cfg: SrsConfig) -> None:
    dialog = _dialog(qtbot, gui_cfg, "whatever", port=free_port())
    qtbot.waitUntil(lambda: "cannot be reached" in dialog.message.text(), timeout=10_000)
    assert dialog.worker is None and dialog.sign_in.isEnabled()


def test_bad_user_name_is_refused_before_connecting(qtbot, gui_cfg: SrsConfig) -> None:
    dialog = SignInDialog(gui_cfg, "bad/user", "pw")
    qtbot.addWidget(dialog)
    dialog.submit()
    assert "user name" in dialog.message.text() and dialog.worker is None


def test_a_non_operator_account_is_told_so(
    qtbot, gui_cfg: SrsConfig, srs_broker: BrokerHandle
) -> None:
    mqtt = srs_broker.client_config("ivan", "integrator")  # may not read responses
    assert mqtt.password is not None
    dialog = SignInDialog(gui_cfg, "ivan", mqtt.password.get_secret_value())
    qtbot.addWidget(dialog)
    dialog.submit()
    qtbot.waitUntil(lambda: "is this user an operator" in dialog.message.text(), timeout=10_000)
    assert dialog.worker is None and dialog.result() != QDialog.DialogCode.Accepted
