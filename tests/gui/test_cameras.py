"""A camera core withdrew (disabled) is shown disabled, not online."""

from __future__ import annotations

import time

from gui.main_window import MainWindow
from srs.wire import SigningKey, commands, payloads, topics
from tests.brokers import BrokerHandle
from tests.gui.helpers import FakeCore, demo_plan, publish_as_camera


def _row(window: MainWindow, camera_id: str) -> int:
    return window.cameras.camera_ids().index(camera_id)


def test_a_disabled_camera_is_shown_disabled(
    qtbot, window: MainWindow, fake_core: FakeCore, srs_broker: BrokerHandle
) -> None:
    """The bug: a disabled camera kept showing "online" (its last retained status)."""
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    qtbot.waitUntil(lambda: "cam1" in window.plan.cameras, timeout=5_000)
    cam_key = SigningKey.generate(topics.camera_issuer("cam1"))
    fake_core.vouch_for_camera("cam1", cam_key)
    status = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    publish_as_camera(srs_broker, "cam1", status, cam_key)
    cone = window.plan.cameras["cam1"]
    qtbot.waitUntil(lambda: cone.online, timeout=5_000)

    # Another operator disables it: core withdraws the key it vouched for.
    fake_core.publish_raw(topics.camera_key("cam1"), b"", retain=True)
    row = _row(window, "cam1")
    qtbot.waitUntil(lambda: window.cameras.index(row, 1).data() == "disabled", timeout=5_000)
    assert not cone.online and cone.disabled
    window.tick_second()  # a later heartbeat check does not bring it back
    assert window.cameras.index(row, 1).data() == "disabled"
    # Its first "online" at sign-in was how things were; being disabled is an event.
    assert [r.detail for r in window.events.rows() if r.kind == "camera"] == ["disabled"]
    # Enabled again: core vouches for it again, its status is believed again.
    fake_core.vouch_for_camera("cam1", cam_key)
    qtbot.waitUntil(lambda: window.cameras.index(row, 1).data() == "online", timeout=5_000)
    assert cone.online and not cone.disabled


def test_disabling_from_this_desk_shows_it_at_once(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    fake_core.on_request = lambda user, req: fake_core.reply(
        user, req, ok=True, result={"camera_id": "cam2", "enabled": False}
    )
    window.actions_.disable_camera("cam2")
    qtbot.waitUntil(lambda: window.cameras.state("cam2") == "disabled", timeout=5_000)
    assert fake_core.requests[-1].command == commands.SetCameraEnabled(
        camera_id="cam2", enabled=False
    )
