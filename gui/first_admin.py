"""First run: the "create the first administrator" screen (see docs/gui.md).

Asks for the one-time code `srs init` printed on the server, the administrator's
name and password (twice); core creates the account (gui/first_run.py does the
MQTT part, in a thread so the window stays responsive). On success the dialog is
accepted with ``admin_name`` / ``admin_password`` set, and the sign-in dialog signs
in with them.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gui.first_run import FirstRunError, check_form, create_first_admin
from srs.config import MqttConfig, SecurityConfig


class FirstAdminDialog(QDialog):
    outcome = Signal(str)  # "" on success, else the sentence (emitted from the worker thread)

    def __init__(
        self,
        mqtt: MqttConfig,
        security: SecurityConfig,
        core_key: Ed25519PublicKey | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("SRS — first run: create the administrator")
        self.mqtt, self.security, self.core_key = mqtt, security, core_key
        self.admin_name = ""
        self.admin_password = ""
        self._thread: threading.Thread | None = None
        self.code = QLineEdit()
        self.code.setPlaceholderText("ABCD-EFGH-JKMN (printed by srs init)")
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.again = QLineEdit()
        for field in (self.password, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        intro = QLabel(
            "No administrator exists yet. Enter the one-time code that "
            "`srs init` printed on the server (valid 15 minutes), then choose "
            "the administrator's name and password (12 characters or more)."
        )
        intro.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("first-admin-message")
        form = QFormLayout()
        form.addRow("First-run code", self.code)
        form.addRow("Administrator", self.name)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        # Parented at once: setDefault only takes when the button already has its
        # dialog, and without a default button Enter pressed Cancel.
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.create_button = self.buttons.addButton(
            "Create administrator", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setDefault(True)
        self.buttons.rejected.connect(self.reject)
        self.create_button.clicked.connect(self.submit)
        self.outcome.connect(self._on_done)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.code.setFocus()

    def submit(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        name = self.name.text().strip()
        problem = check_form(self.code.text(), name, self.password.text(), self.again.text())
        if problem is not None:
            self._show(problem, error=True)
            return
        self.create_button.setEnabled(False)
        self._show("Asking core to create the administrator…", error=False)
        args = (self.code.text(), name, self.password.text())
        self._thread = threading.Thread(
            target=self._work, args=args, daemon=True, name="srs-first-run"
        )
        self._thread.start()

    def _work(self, code: str, name: str, password: str) -> None:
        try:
            create_first_admin(
                self.mqtt, self.security, code, name, password, core_key=self.core_key
            )
        except FirstRunError as exc:
            self.outcome.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - never leave the dialog waiting
            self.outcome.emit(f"the administrator could not be created ({exc})")
            return
        self.admin_name, self.admin_password = name, password
        self.outcome.emit("")

    def _on_done(self, problem: str) -> None:
        self.create_button.setEnabled(True)
        if problem:
            self._show(problem[0].upper() + problem[1:] + ".", error=True)
            return
        self._show(f"Administrator {self.admin_name} created; signing in…", error=False)
        self.accept()

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "color: #34495e;")
