"""`srs gui`: sign in, then the dashboard (or render a screenshot with --screenshot)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gui.srs_config import SrsConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add this component's commands to the `srs` parser."""
    from srs.subcommands import add_command

    p = add_command(
        sub,
        "gui",
        run,
        help="the security dashboard (live floor plan, people, events)",
        description="Open the SRS dashboard. Signs in to the broker as an operator; with "
        "--user and a password (--password-stdin or $SRS_MQTT__PASSWORD) it "
        "signs in without asking.",
    )
    p.add_argument("--user", help="broker user to sign in as (default: [mqtt] username)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the dashboard with a sample state into PNG and exit",
    )


def run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    if args.screenshot is not None:
        from gui.screenshot import render

        render(args.screenshot, cfg)
        print(f"wrote {args.screenshot}")
        return 0
    password: str | None = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif cfg.mqtt.password is not None:
        password = cfg.mqtt.password.get_secret_value()
    return open_dashboard(cfg, args.user or cfg.mqtt.username, password)


def save_grab(window: object, path: Path | None) -> None:
    """Save what the window shows now (the live dashboard) as PNG."""
    import logging

    from PySide6.QtWidgets import QWidget

    if path is None or not isinstance(window, QWidget):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(path))
    logging.getLogger(__name__).info("screenshot %s %s", path, "saved" if ok else "FAILED")


def open_dashboard(cfg: SrsConfig, user: str | None, password: str | None) -> int:
    import signal

    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    from gui.main_window import MainWindow
    from gui.signin import SignInDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    stopped: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # app.quit() alone does not end a dialog's own event loop: close the windows
        # first, so Ctrl-C and SIGTERM work on the sign-in screen too.
        stopped.append(signum)
        QApplication.closeAllWindows()
        app.quit()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wake = QTimer()  # lets Python run its signal handlers while Qt's loop waits
    wake.timeout.connect(lambda: None)
    wake.start(250)
    dialog = SignInDialog(cfg, user, password)
    if user and password:
        QTimer.singleShot(0, dialog.submit)
    else:
        print(
            f"Sign in to the broker at {cfg.mqtt.host}:{cfg.mqtt.port} (Ctrl-C quits).", flush=True
        )
    # A signal that came before the dialog's loop started is honoured once it runs.
    QTimer.singleShot(0, lambda: dialog.reject() if stopped else None)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.worker is None:
        return 0 if stopped else 1
    window = MainWindow(cfg.gui, dialog.worker)
    window.show()
    if cfg.gui.screenshot_file is not None:
        QTimer.singleShot(
            int(cfg.gui.screenshot_after_s * 1000),
            lambda: save_grab(window, cfg.gui.screenshot_file),
        )
    try:
        return app.exec()
    finally:
        dialog.worker.stop()
        # Destroy the widgets while Qt still runs: left to interpreter shutdown, PySide
        # may free them in the wrong order and abort ("none_dealloc").
        wake.stop()
        window.deleteLater()
        dialog.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
