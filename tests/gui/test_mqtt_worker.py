"""The dashboard's MQTT subscriptions on a broker that sends retained messages only to
subscriptions without wildcards (RabbitMQ 3.10's rule; docs/broker.md)."""

from __future__ import annotations

import time
from pathlib import Path

from gui import mqtt_worker as mw
from gui.main_window import MainWindow
from gui.session import Credentials, build_worker
from srs.wire import SigningKey, payloads, topics
from tests.brokers import BrokerHandle
from tests.gui.helpers import (
    OPERATOR,
    FakeCore,
    demo_plan,
    gui_config,
    operator_password,
    publish_as_camera,
)


def test_camera_state_from_before_sign_in_shows_without_wildcard_retained(
    qtbot, tmp_path: Path, core_key: SigningKey, exact_retained_broker: BrokerHandle
) -> None:
    broker = exact_retained_broker
    fake_core = FakeCore(broker.client_config("core", "core"), core_key)
    try:
        # Everything below is retained before the dashboard exists.
        fake_core.publish(topics.site(), demo_plan(), retain=True)
        cam_key = SigningKey.generate(topics.camera_issuer("cam1"))
        fake_core.vouch_for_camera("cam1", cam_key)
        status = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
        publish_as_camera(broker, "cam1", status, cam_key)

        cfg = gui_config(tmp_path, core_key, broker)
        creds = Credentials(broker.host, broker.port, OPERATOR, operator_password(broker))
        worker = build_worker(cfg, creds)
        win = MainWindow(cfg.gui, worker)
        qtbot.addWidget(win)  # closing it at teardown stops the worker
        worker.start()
        qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
        qtbot.waitUntil(lambda: "cam1" in win.plan.cameras, timeout=10_000)
        # The key core vouched for and the camera's "online" both came retained, on the
        # exact topics the dashboard subscribed once the site plan named the camera.
        qtbot.waitUntil(lambda: win.plan.cameras["cam1"].online, timeout=10_000)
    finally:
        fake_core.close()
