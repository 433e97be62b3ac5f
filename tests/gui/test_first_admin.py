"""First run on the dashboard, against the real broker and the real core service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtWidgets import QDialog

from broker import bootstrap
from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from broker.users import UserStore, default_path
from core.service import CoreService
from gui import mqtt_worker as mw
from gui.signin import SignInDialog
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import core_config

PASSWORD = "correct horse battery"


@pytest.fixture
def fresh_install(tmp_path: Path) -> Iterator[tuple[SrsConfig, UserStore]]:
    """Broker and core on one data dir with no administrator, as after `srs init`."""
    base = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(bind="127.0.0.1", port=0))
    users = fast_user_store(default_path(base))
    core_password = users.add("core", "core")
    with EmbeddedBroker(base) as broker:
        mqtt = MqttConfig(
            host="127.0.0.1", port=broker.port, username="core", password=SecretStr(core_password)
        )
        with CoreService(core_config(tmp_path, mqtt)) as svc:
            assert svc.wait_connected(10)
            # The desk runs on the server: same data dir, so core's key is pinned.
            gui_cfg = SrsConfig(
                data_dir=tmp_path, mqtt=MqttConfig(host="127.0.0.1", port=broker.port)
            )
            yield gui_cfg, users


def _fill(dialog, code: str, name: str, password: str, again: str) -> None:
    dialog.code.setText(code)
    dialog.name.setText(name)
    dialog.password.setText(password)
    dialog.again.setText(again)
    dialog.create_button.click()


def test_first_run_creates_the_admin_and_signs_in_once(qtbot, fresh_install) -> None:
    cfg, users = fresh_install
    code, _ = bootstrap.issue(users)
    signin = SignInDialog(cfg)
    qtbot.addWidget(signin)
    # No administrator in this machine's users file: the first-run screen opens itself.
    qtbot.waitUntil(
        lambda: signin.first_run is not None and signin.first_run.isVisible(), timeout=5_000
    )
    first = signin.first_run
    assert first is not None and first.core_key is not None  # core's key is pinned
    _fill(first, code, "root", PASSWORD, PASSWORD + "!")
    assert "differ" in first.message.text()
    _fill(first, code, "root", "short", "short")
    assert "12 characters" in first.message.text()
    _fill(first, code.lower(), "root", PASSWORD, PASSWORD)
    qtbot.waitUntil(lambda: signin.result() == QDialog.DialogCode.Accepted, timeout=20_000)
    assert users.role_of("root") == "admin" and users.expired("bootstrap")
    worker = signin.worker
    assert worker is not None and worker.user == "root" and worker.state == mw.CONNECTED
    worker.stop()
    # The code works once: asked again, the broker refuses it.
    again = SignInDialog(cfg)
    qtbot.addWidget(again)
    again.open_first_run()
    second = again.first_run
    assert second is not None
    _fill(second, code, "root2", PASSWORD, PASSWORD)
    qtbot.waitUntil(lambda: "refused the first-run code" in second.message.text(), timeout=20_000)
    assert users.role_of("root2") is None and second.create_button.isEnabled()
    second.reject()
    again.reject()
