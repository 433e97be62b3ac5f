"""The sign-in dialog: broker address, user, password; clear sentences on failure.

"First run: create the administrator" opens gui/first_admin.py (automatically when
this machine's broker users file lists no administrator and nobody signs in
automatically); once core created the account the dialog signs in with it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui import mqtt_worker as mw
from gui.config import core_key_path
from gui.core_key import load_pinned
from gui.first_admin import FirstAdminDialog
from gui.session import Credentials, build_worker
from gui.srs_config import SrsConfig
from srs.wire import topics

FAILED = (mw.WRONG_PASSWORD, mw.UNREACHABLE, mw.REFUSED)


class SignInDialog(QDialog):
    """Accepted once the broker says "connected"; ``worker`` is then the live session."""

    def __init__(
        self,
        cfg: SrsConfig,
        user: str | None = None,
        password: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("SRS — sign in")
        self.cfg = cfg
        self.worker: mw.MqttWorker | None = None
        self.host = QLineEdit(cfg.mqtt.host)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(cfg.mqtt.port)
        self.user = QLineEdit(user or cfg.mqtt.username or "")
        self.password = QLineEdit(password or "")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.tls = QCheckBox("encrypted (TLS)")
        self.tls.setChecked(cfg.mqtt.tls)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("signin-message")
        form = QFormLayout()
        form.addRow("Broker", self.host)
        form.addRow("Port", self.port)
        form.addRow("", self.tls)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        # Parented at once: setDefault only takes when the button already has its
        # dialog, and without a default button Enter pressed Cancel.
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.sign_in = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in.setDefault(True)
        self.buttons.rejected.connect(self.reject)
        self.sign_in.clicked.connect(self.submit)
        self.first_run_button = self.buttons.addButton(
            "First run: create the administrator", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.first_run_button.clicked.connect(self.open_first_run)
        self.first_run: FirstAdminDialog | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.password if self.user.text() else self.user).setFocus()
        if not password and no_local_admin(cfg):
            QTimer.singleShot(0, self.open_first_run)

    def open_first_run(self) -> None:
        """The first-administrator screen, for the broker this form points at."""
        if self.first_run is not None and self.first_run.isVisible():
            return
        mqtt = self.cfg.mqtt.model_copy(
            update={
                "host": self.host.text().strip(),
                "port": self.port.value(),
                "tls": self.tls.isChecked(),
                "username": None,
                "password": None,
            }
        )
        try:
            path = core_key_path(self.cfg.gui, self.cfg.keys_dir)
            pinned = load_pinned(path) if path is not None else None
        except ValueError as exc:
            self._show(str(exc), error=True)
            return
        self.first_run = FirstAdminDialog(mqtt, self.cfg.security, pinned, self)
        self.first_run.accepted.connect(self._first_admin_created)
        self.first_run.open()

    def _first_admin_created(self) -> None:
        dialog = self.first_run
        if dialog is None:
            return
        self.user.setText(dialog.admin_name)
        self.password.setText(dialog.admin_password)
        self.submit()

    def submit(self) -> None:
        """Start a session with the form's values; the outcome arrives as a state."""
        self._drop_worker()
        user = self.user.text().strip()
        try:
            topics.check_id(user, "user name")
        except topics.TopicError as exc:
            self._show(str(exc), error=True)
            return
        if not self.password.text():
            self._show("Enter the password for this user.", error=True)
            return
        creds = Credentials(
            self.host.text().strip(),
            self.port.value(),
            user,
            self.password.text(),
            self.tls.isChecked(),
        )
        try:
            self.worker = build_worker(self.cfg, creds)
        except ValueError as exc:
            self._show(str(exc), error=True)
            return
        # A bound method of this dialog: Qt queues the call onto the GUI thread.
        self.worker.state_changed.connect(self._on_state)
        self.sign_in.setEnabled(False)
        self.worker.start()

    def _on_state(self, state: str, sentence: str) -> None:
        if self.result() == QDialog.DialogCode.Accepted or (
            self.sender() is not None and self.sender() is not self.worker
        ):
            return  # signed in (the window takes over), or a stale state of an old attempt
        if state == mw.CONNECTED:
            self._show(sentence, error=False)
            self.accept()
        elif state in FAILED:
            self._show(sentence, error=True)
            self._drop_worker()
        else:
            self._show(sentence, error=False)

    def _drop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
        self.sign_in.setEnabled(True)

    def reject(self) -> None:
        self._drop_worker()
        super().reject()

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "color: #34495e;")
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft)


def no_local_admin(cfg: SrsConfig) -> bool:
    """True when this machine holds the broker's users file and it has no admin
    (a desk PC without the file never opens the first-run screen by itself)."""
    from broker.users import UserError, UserStore, default_path

    path = default_path(cfg)
    if not path.exists():
        return False
    try:
        return not any(u.role == "admin" for u in UserStore(path).list())
    except (UserError, OSError):
        return False
