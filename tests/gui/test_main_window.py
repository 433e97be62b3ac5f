"""gui/main_window.py: what the window does with each thing its worker reports (a
recording worker, no broker; the signed-in window against a broker is tested by
tests/gui/test_live.py and friends)."""

from __future__ import annotations

import time

from gui import mqtt_worker as mw
from gui.main_window import KEY_FORGOTTEN
from gui.person_card import PersonCard
from srs.wire import commands, payloads
from tests.gui.desk import desk
from tests.gui.helpers import demo_plan, position


def test_the_site_plan_names_the_window_the_zones_and_the_cameras(qtbot) -> None:
    win, _ = desk(qtbot)
    win.on_site(demo_plan())
    assert win.windowTitle() == "SRS — Test floor"
    assert win.people.zone_names == {"lab": "Lab"}
    assert win.cameras.camera_ids() == ["cam1", "cam2"]


def test_each_frame_applies_the_latest_positions(qtbot) -> None:
    win, worker = desk(qtbot)
    worker.positions = {"p1": position("p1", 1, 1, label="Ada"), "u7": position("u7", 2, 2)}
    win.tick()
    assert [p.person_key for p in win.people.people()] == ["p1", "u7"]
    worker.positions = {"u7": None}  # its retained position was cleared
    win.tick()
    assert [p.person_key for p in win.people.people()] == ["p1"]
    assert win.key_named("ADA") == "p1"
    assert win.key_named("Bob") is None


def test_a_card_opens_for_someone_shown(qtbot) -> None:
    win, worker = desk(qtbot)
    assert win.show_person("p1") is None
    worker.positions = {"p1": position("p1", 1, 1, label="Ada")}
    win.tick()
    card = win.show_person("p1")
    assert isinstance(card, PersonCard)
    assert win.people_panel.selected_key() == "p1"


def test_an_accepted_name_shows_everywhere_at_once(qtbot) -> None:
    win, worker = desk(qtbot)
    worker.positions = {"u7": position("u7", 1, 1, identity="unknown", label="Unknown 7")}
    win.tick()
    command = commands.NameIdentity(person_key="u7", name="Kit")
    result = {"person_key": "p9", "name": "Kit"}
    win.on_response(commands.Response(request_id="r1", ok=True, result=result), command)
    shown = win.people.get("u7")
    assert shown is not None and (shown.label, shown.identity) == ("Kit", "known")
    assert win.result_label.text() == "✔ name person: now Kit (p9)"


def test_a_refusal_is_shown_and_a_forgotten_key_is_sent_again(qtbot) -> None:
    win, worker = desk(qtbot)
    command = commands.SetCameraEnabled(camera_id="door", enabled=False)
    refused = commands.Response(request_id="r1", ok=False, error="no camera 'door'")
    win.on_response(refused, command)
    assert (
        win.result_label.text().startswith("✖ ") and "no camera 'door'" in win.result_label.text()
    )
    forgotten = commands.Response(request_id="r2", ok=False, error=f"x {KEY_FORGOTTEN} y")
    win.on_response(forgotten, command)
    assert worker.keys_registered == 1
    assert "sent again" in win.result_label.text()


def test_core_coming_online_gets_this_sessions_key_again(qtbot) -> None:
    win, worker = desk(qtbot)
    status = payloads.CoreStatus(state="online", sent_at=time.time(), accepted=5, matched=2)
    win.on_core_status(status)
    win.on_core_status(status)  # still online: once is enough
    assert worker.keys_registered == 1
    assert win.core_label.text() == "core: online, 5 accepted, 2 recognised"
    win.on_dropped(3)
    assert win.dropped_label.text() == "refused messages: 3"


def test_what_the_broker_dropped_shows_beside_core(qtbot) -> None:
    win, _ = desk(qtbot)
    status = payloads.CoreStatus(
        state="online",
        sent_at=time.time(),
        accepted=5,
        broker_status_at=time.time(),
        broker_oversize_dropped=2,
        broker_queue_dropped=1,
    )
    win.on_core_status(status)
    assert win.core_label.text().endswith(
        ", broker dropped 3 (2 over the size limit, 1 from a full queue)"
    )
    assert "2 dropped over the size limit" in win.core_label.toolTip()


def test_the_connection_line_follows_the_worker(qtbot) -> None:
    win, _ = desk(qtbot)
    win.on_state(mw.CONNECTING, "connecting to 127.0.0.1:1883…")
    assert "connecting to 127.0.0.1:1883" in win.connection.text()
