"""Live state from a (fake) core over a real broker reaches the right widgets."""

from __future__ import annotations

import time

from gui.floorplan import scene
from gui.main_window import MainWindow
from gui.models import event_from
from srs.wire import SigningKey, payloads, topics
from tests.brokers import BrokerHandle
from tests.gui.helpers import FakeCore, demo_plan, position, publish_as_camera


def _settle(window: MainWindow, qtbot, key: str) -> None:
    marker = window.plan.markers[key]
    qtbot.waitUntil(lambda: marker.pos() == marker.target, timeout=5_000)


def test_position_moves_the_right_marker(qtbot, window: MainWindow, fake_core: FakeCore) -> None:
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    fake_core.publish(topics.position("p1"), position("p1", 2, 3), retain=True)
    fake_core.publish(topics.position("p2"), position("p2", 5, 5, label="Bob"), retain=True)
    qtbot.waitUntil(lambda: {"p1", "p2"} <= set(window.plan.markers), timeout=5_000)
    p2_before = window.plan.markers["p2"].pos()

    fake_core.publish(topics.position("p1"), position("p1", 15, 7, zone="lab"), retain=True)
    marker = window.plan.markers["p1"]
    qtbot.waitUntil(lambda: marker.target == scene(15, 7), timeout=5_000)
    _settle(window, qtbot, "p1")
    assert marker.pos() == scene(15, 7)
    assert window.plan.markers["p2"].pos() == p2_before  # the other marker did not move
    assert marker.label.text() == "Alice"
    assert window.people.get("p1").zone == "lab"  # type: ignore[union-attr]
    assert not marker.trail.path().isEmpty()  # the trail shows where it came from


def test_a_batch_of_sightings_becomes_one_timeline_row_each(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    now = time.time()
    batch = payloads.SightingBatch(
        sightings=[
            payloads.Sighting(
                person_key="p1",
                identity="known",
                label="Alice",
                camera_id="cam1",
                seen_at=now - 2,
                sighting_id=11,
                distance=0.42,
                zone="lab",
            ),
            payloads.Sighting(
                person_key="u7",
                identity="unknown",
                label="Unknown 7",
                camera_id="cam2",
                seen_at=now - 1,
                sighting_id=12,
            ),
            payloads.Sighting(
                person_key="t-cam1-3",
                identity="unidentified",
                label="Unidentified",
                camera_id="cam1",
                seen_at=now,
                sighting_id=13,
            ),
        ]
    )
    fake_core.publish(topics.sightings(), batch)
    qtbot.waitUntil(lambda: window.events.rowCount() == 3, timeout=5_000)
    rows = window.events.rows()  # newest first, each as a single sighting always was
    assert [r.sighting_id for r in rows] == [13, 12, 11]
    assert rows == [event_from(s) for s in reversed(batch.sightings)]
    assert (rows[2].kind, rows[2].place, rows[2].detail) == (
        "sighting",
        "cam1",
        "seen in lab distance 0.42",
    )


def test_gone_person_disappears(qtbot, window: MainWindow, fake_core: FakeCore) -> None:
    fake_core.publish(topics.position("p1"), position("p1", 2, 3), retain=True)
    qtbot.waitUntil(lambda: "p1" in window.plan.markers, timeout=5_000)
    fake_core.publish(topics.position("p1"), position("p1", 2, 3, gone=True), retain=True)
    qtbot.waitUntil(lambda: "p1" not in window.plan.markers, timeout=5_000)
    assert window.people.rowCount() == 0


def test_silent_camera_turns_its_cone_offline(
    qtbot, window: MainWindow, fake_core: FakeCore, srs_broker: BrokerHandle
) -> None:
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    qtbot.waitUntil(lambda: "cam1" in window.plan.cameras, timeout=5_000)
    sent = time.time()
    status = payloads.CameraStatus(
        camera_id="cam1",
        state="online",
        sent_at=sent,
        heartbeat_interval_s=10,
        fps=9.5,
        outbox_depth=3,
    )
    cam_key = SigningKey.generate(topics.camera_issuer("cam1"))
    fake_core.vouch_for_camera("cam1", cam_key)
    publish_as_camera(srs_broker, "cam1", status, cam_key)
    cone = window.plan.cameras["cam1"]
    qtbot.waitUntil(lambda: cone.online, timeout=5_000)
    assert not window.plan.cameras["cam2"].online  # never heard of: offline

    window.tick_second(now=sent + 29)  # within 3 heartbeat intervals
    assert cone.online
    window.tick_second(now=sent + 31)  # silent for more than 3 intervals
    assert not cone.online
    row = window.cameras.camera_ids().index("cam1")
    assert window.cameras.index(row, 1).data() == "offline"
    assert window.cameras.index(row, 4).data() == "3"


def test_alert_shows_a_banner_until_acknowledged(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    alert = payloads.Alert(
        alert_id="a1",
        kind="unknown_in_restricted",
        severity="critical",
        message="Unknown 7 entered Lab (restricted)",
        at=time.time(),
        person_key="u7",
        zone="lab",
    )
    fake_core.publish(topics.alerts(), alert)
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=5_000)
    assert "Unknown 7 entered Lab" in window.banner.text.text()
    assert window.events.row(0).kind == "alert"
    window.banner.ack.click()
    assert not window.banner.isVisibleTo(window)


def test_clicking_a_person_opens_their_card(qtbot, window: MainWindow, fake_core: FakeCore) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    fake_core.publish(topics.site(), demo_plan(), retain=True)
    fake_core.publish(
        topics.position("p9"), position("p9", 6, 4, label="Dana", zone="hall"), retain=True
    )
    qtbot.waitUntil(
        lambda: "p9" in window.plan.markers and window.plan.plan is not None, timeout=5_000
    )
    _settle(window, qtbot, "p9")
    window.show()
    qtbot.waitExposed(window)
    marker = window.plan.markers["p9"]
    with qtbot.waitSignal(window.plan.person_clicked, timeout=5_000) as clicked:
        QTest.mouseClick(
            window.plan.viewport(),
            Qt.MouseButton.LeftButton,
            pos=window.plan.mapFromScene(marker.pos()),
        )
    assert clicked.args == ["p9"]
    card = window.cards[-1]
    assert card.person_key == "p9" and "Dana" in card.windowTitle()


def test_people_filter_matches_any_column(qtbot, window: MainWindow, fake_core: FakeCore) -> None:
    fake_core.publish(topics.position("p1"), position("p1", 1, 1, zone="lab"), retain=True)
    fake_core.publish(
        topics.position("p2"), position("p2", 2, 2, label="Bob", zone="hall"), retain=True
    )
    qtbot.waitUntil(lambda: window.people.rowCount() == 2, timeout=5_000)
    window.people_panel.filter.setText("HALL")
    assert window.people_panel.proxy.rowCount() == 1
    window.people_panel.filter.setText("")
    assert window.people_panel.proxy.rowCount() == 2


def test_cleared_retained_position_removes_the_person(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    fake_core.publish(
        topics.position("u3"),
        position("u3", 2, 3, identity="unknown", label="Unknown 3"),
        retain=True,
    )
    qtbot.waitUntil(lambda: "u3" in window.plan.markers, timeout=5_000)
    fake_core.publish_raw(topics.position("u3"), b"", retain=True)  # how core forgets a merge
    qtbot.waitUntil(lambda: "u3" not in window.plan.markers, timeout=5_000)
    assert window.people.get("u3") is None
    assert window.worker is not None and window.worker.inbox.dropped_total == 0


def test_missing_site_plan_is_asked_for_again(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    worker = window.worker
    assert worker is not None
    worker.site_received.disconnect(window.on_site)  # as if the retained plan got lost
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    qtbot.waitUntil(lambda: worker.inbox.accepted >= 1, timeout=5_000)
    worker.site_received.connect(window.on_site)
    assert window.plan.plan is None
    for _ in range(3):
        window.tick_second()  # the third second without a plan subscribes again
    qtbot.waitUntil(lambda: window.plan.plan is not None, timeout=5_000)
    assert set(window.plan.cameras) == {"cam1", "cam2"}


def test_people_list_puts_named_people_first(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    for key, identity, label in (
        ("x1", "unidentified", "Unidentified"),
        ("u2", "unknown", "Unknown 2"),
        ("p3", "known", "Zoe"),
    ):
        fake_core.publish(
            topics.position(key), position(key, 1, 1, identity=identity, label=label), retain=True
        )
    qtbot.waitUntil(lambda: window.people.rowCount() == 3, timeout=5_000)
    panel = window.people_panel
    proxy = panel.proxy
    # The unidentified are grouped in one line under the table, listed on request.
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["Zoe", "Unknown 2"]
    assert panel.unidentified.text() == "1 unidentified: no zone 1"
    panel.show_unidentified.setChecked(True)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["Zoe", "Unknown 2", "Unidentified"]
    assert "x1" in window.plan.markers and window.plan.markers["x1"].label.text() == ""
