"""Bad, forged or misdirected messages are dropped and counted; the window keeps going."""

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
    gui_config,
    operator_password,
    position,
    publish_as_camera,
)


def test_forged_and_garbage_messages_are_dropped_and_counted(
    qtbot, window: MainWindow, fake_core: FakeCore, srs_broker: BrokerHandle
) -> None:
    forger = SigningKey.generate("core")  # right issuer name, wrong key
    fake_core.publish(
        topics.position("px"), position("px", 1, 1, label="Mallory"), retain=True, key=forger
    )
    fake_core.publish_raw(topics.sightings(), b"this is not a token")
    # A camera status claiming another camera's identity.
    cam1 = SigningKey.generate("camera:cam1")
    fake_core.vouch_for_camera("cam1", cam1)
    status = payloads.CameraStatus(camera_id="cam2", state="online", sent_at=time.time())
    publish_as_camera(srs_broker, "cam1", status, cam1)
    # A genuine message after the bad ones still gets through.
    fake_core.publish(topics.position("p1"), position("p1", 2, 2), retain=True)
    qtbot.waitUntil(lambda: "p1" in window.plan.markers, timeout=5_000)
    qtbot.waitUntil(lambda: window.worker.inbox.dropped_total == 3, timeout=5_000)  # type: ignore[union-attr]
    inbox = window.worker.inbox  # type: ignore[union-attr]
    assert inbox.dropped["bad_signature"] == 1 and inbox.dropped["malformed"] == 1
    assert inbox.dropped["wrong_topic"] == 1
    assert "px" not in window.plan.markers and window.events.rowCount() == 0
    qtbot.waitUntil(lambda: window.dropped_label.text() == "refused messages: 3", timeout=5_000)


def test_retained_core_key_differing_from_the_pinned_one_is_refused(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    impostor = FakeCore.__new__(FakeCore)
    impostor.key = SigningKey.generate("core")
    impostor.client = fake_core.client
    FakeCore.publish_key(impostor)  # self-signed by a key that is not the pinned one
    qtbot.waitUntil(lambda: window.worker.inbox.dropped_total == 1, timeout=5_000)  # type: ignore[union-attr]
    assert window.worker.inbox.core_key.key is not None  # type: ignore[union-attr]
    fake_core.publish(topics.position("p1"), position("p1", 2, 2), retain=True)
    qtbot.waitUntil(lambda: "p1" in window.plan.markers, timeout=5_000)  # pinned key still works


def test_unpinned_key_is_learnt_from_the_broker_and_held_messages_replayed(
    qtbot, tmp_path: Path, srs_broker: BrokerHandle, fake_core: FakeCore
) -> None:
    # Core's state published before its key: held until the key arrives, then applied.
    fake_core.publish(topics.position("p1"), position("p1", 3, 3), retain=True)
    cfg = gui_config(tmp_path, None, srs_broker)
    worker = build_worker(
        cfg, Credentials(srs_broker.host, srs_broker.port, OPERATOR, operator_password(srs_broker))
    )
    window = MainWindow(cfg.gui, worker)
    qtbot.addWidget(window)
    worker.start()
    qtbot.waitUntil(lambda: worker.state == mw.CONNECTED, timeout=10_000)
    assert "p1" not in window.plan.markers
    fake_core.publish_key()
    qtbot.waitUntil(lambda: "p1" in window.plan.markers, timeout=5_000)
    assert worker.inbox.dropped_total == 0


def test_a_forged_camera_status_is_refused(
    qtbot, window: MainWindow, fake_core: FakeCore, srs_broker: BrokerHandle
) -> None:
    """Only the key core vouches for makes a camera status believed: a status signed by
    any other key, even one published by the camera's own broker user, is dropped."""
    genuine = SigningKey.generate(topics.camera_issuer("cam1"))
    fake_core.vouch_for_camera("cam1", genuine)
    forged = payloads.CameraStatus(
        camera_id="cam1", state="online", sent_at=time.time(), message="all fine"
    )
    publish_as_camera(srs_broker, "cam1", forged, SigningKey.generate("camera:cam1"))
    inbox = window.worker.inbox  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: inbox.dropped["bad_signature"] == 1, timeout=5_000)
    assert "cam1" not in window.cameras.camera_ids()
    # The same status signed with the vouched key is shown.
    publish_as_camera(srs_broker, "cam1", forged, genuine)
    qtbot.waitUntil(lambda: "cam1" in window.cameras.camera_ids(), timeout=5_000)
    assert inbox.dropped_total == 1


def test_a_camera_status_core_does_not_vouch_for_is_not_shown(
    qtbot, window: MainWindow, fake_core: FakeCore, srs_broker: BrokerHandle
) -> None:
    """A camera core has not vouched for (unregistered, disabled, or a key announced by
    someone else than core) is not believed; once core vouches, its status shows."""
    cam = SigningKey.generate(topics.camera_issuer("cam1"))
    status = payloads.CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    publish_as_camera(srs_broker, "cam1", status, cam)
    # A key for cam1 announced by someone else than core is refused.
    impostor = SigningKey.generate("core")
    fake_core.publish(
        topics.camera_key("cam1"),
        payloads.PublicKey(sender="camera:cam1", public_key=cam.public_key_b64),
        retain=True,
        key=impostor,
    )
    inbox = window.worker.inbox  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: inbox.dropped["bad_signature"] == 1, timeout=5_000)
    assert "cam1" not in window.cameras.camera_ids()
    fake_core.vouch_for_camera("cam1", cam)  # the held status is released
    qtbot.waitUntil(lambda: "cam1" in window.cameras.camera_ids(), timeout=5_000)
