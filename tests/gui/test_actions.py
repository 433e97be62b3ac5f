"""Operator actions: signed requests verified by a (fake) core; responses update panels."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gui.actions import enrol_command, history_rows, image_b64
from gui.main_window import MainWindow
from srs.wire import commands, payloads, topics
from tests.gui.helpers import OPERATOR, FakeCore, position


def test_naming_an_unknown_updates_every_panel(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    fake_core.publish(
        topics.position("u7"),
        position("u7", 4, 4, identity="unknown", label="Unknown 7"),
        retain=True,
    )
    fake_core.publish(
        topics.sightings(),
        payloads.SightingBatch(
            sightings=[
                payloads.Sighting(
                    person_key="u7",
                    identity="unknown",
                    label="Unknown 7",
                    camera_id="cam1",
                    seen_at=time.time(),
                    sighting_id=41,
                )
            ]
        ),
    )
    qtbot.waitUntil(
        lambda: "u7" in window.plan.markers and window.events.rowCount() == 1, timeout=5_000
    )
    assert window.plan.markers["u7"].label.text() == "Unknown 7"

    def core_side(user: str, request: commands.Request) -> None:
        # As core would: check the command, answer, republish the renamed position.
        assert isinstance(request.command, commands.NameIdentity)
        fake_core.reply(user, request, ok=True, result={"person_key": "u7"})
        fake_core.publish(topics.position("u7"), position("u7", 4, 4, label="Carol"), retain=True)

    fake_core.on_request = core_side
    assert window.actions_.name_person("u7", "Carol") is not None
    qtbot.waitUntil(
        lambda: window.people.get("u7").label == "Carol",  # type: ignore[union-attr]
        timeout=5_000,
    )
    qtbot.waitUntil(lambda: "✔ name person" in window.result_label.text(), timeout=5_000)
    assert fake_core.requests[-1].command == commands.NameIdentity(person_key="u7", name="Carol")
    assert window.plan.markers["u7"].label.text() == "Carol"
    assert window.people.get("u7").identity == "known"  # type: ignore[union-attr]
    assert window.events.row(0).label == "Carol"
    card = window.show_person("u7")
    assert card is not None and "Carol" in card.windowTitle()
    assert card.name_button.text() == "Rename…"
    assert window.people_panel.selected_key() == "u7"  # the toolbar now acts on this person


def test_refused_action_shows_cores_sentence(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    fake_core.on_request = lambda user, req: fake_core.reply(
        user, req, ok=False, error="operators may not disable cameras; ask an administrator"
    )
    window.actions_.disable_camera("cam1")
    qtbot.waitUntil(lambda: "may not disable cameras" in window.result_label.text(), timeout=5_000)
    assert fake_core.requests[-1].command == commands.SetCameraEnabled(
        camera_id="cam1", enabled=False
    )


def test_history_search_replaces_the_timeline(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    seen = time.time() - 600
    # The shape of core's answer (core.store.sightings.describe).
    rows = [
        {
            "id": i,
            "person_key": "p1",
            "identity": "known",
            "label": "Alice",
            "camera_id": "cam2",
            "seq": i,
            "seen_at": seen + i,
            "kind": "face",
            "track_id": 1,
            "bbox": [1, 2, 3, 4],
            "distance": 0.4,
            "x": 1.0,
            "y": 2.0,
            "zone": None,
        }
        for i in range(3)
    ]
    fake_core.on_request = lambda user, req: fake_core.reply(user, req, ok=True, result=rows)
    window.events_panel.person.setText("p1")
    window.events_panel.search.click()
    qtbot.waitUntil(lambda: window.events.rowCount() == 3, timeout=5_000)
    query = fake_core.requests[-1].command
    assert isinstance(query, commands.QueryHistory) and query.person_key == "p1"
    assert window.events.row(0).sighting_id == 2  # newest first
    window.actions_.reject_sighting(window.events.row(0).sighting_id)
    qtbot.waitUntil(
        lambda: isinstance(fake_core.requests[-1].command, commands.RejectSighting), timeout=5_000
    )
    window.events_panel.live.click()
    assert window.events.rowCount() == 0 and window.events_panel.mode.text() == "live"
    assert fake_core.requests[-1].request_id  # every request carries its id
    assert OPERATOR in topics.request(OPERATOR)


def test_enrol_images_fit_the_request_limit(qapp, media: Path) -> None:
    photos = sorted((media / "faces" / "train").glob("*/*.jpg"))[:2]
    assert photos
    command = enrol_command("Dana", photos)
    assert all(len(b) <= commands.MAX_IMAGE_B64 for b in command.images_jpeg_b64)
    small = image_b64(photos[0], limit=6_000)  # forces a downscale
    assert len(small) <= 6_000


def test_enrol_refuses_what_is_not_an_image(qapp, tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a picture")
    with pytest.raises(ValueError, match="not an image"):
        enrol_command("Dana", [bad])


def test_history_rows_skip_odd_items() -> None:
    good = payloads.ZoneEvent(
        person_key="p1", identity="known", label="Alice", zone="lab", action="enter", at=1.0
    ).model_dump(mode="json")
    rows = history_rows([good, {"what": "else"}, 7])
    assert [r.kind for r in rows] == ["enter"]


def test_actions_while_disconnected_say_so(qtbot, window: MainWindow) -> None:
    assert window.worker is not None
    window.worker.stop()
    assert window.actions_.disable_camera("cam1") is None
    assert "not connected to the broker" in window.result_label.text()


def test_hiding_unidentified_rows_keeps_the_right_sighting_selected(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    now = time.time()
    for sid, identity, label in (
        (1, "known", "Alice"),
        (2, "unidentified", "Unidentified"),
        (3, "unknown", "Unknown 4"),
    ):
        window.on_event(
            payloads.Sighting(
                person_key=f"k{sid}",
                identity=identity,  # type: ignore[arg-type]
                label=label,
                camera_id="cam1",
                seen_at=now + sid,
                sighting_id=sid,
            )
        )
    panel = window.events_panel
    assert panel.proxy.rowCount() == 0  # raw sightings only on request
    panel.show_sightings.setChecked(True)
    panel.hide_unidentified.setChecked(True)
    assert panel.proxy.rowCount() == 2
    panel.view.selectRow(1)  # the second visible row: Alice (the unidentified one is hidden)
    fake_core.on_request = lambda user, req: fake_core.reply(user, req, ok=True)
    window.actions_.reject_sighting()
    qtbot.waitUntil(lambda: bool(fake_core.requests), timeout=5_000)
    assert fake_core.requests[-1].command == commands.RejectSighting(sighting_id=1)
    panel.hide_unidentified.setChecked(False)
    assert panel.proxy.rowCount() == 3


def test_a_forgotten_session_key_is_sent_again(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    def restarted_core(user: str, req: commands.Request) -> None:
        fake_core.operator_keys.clear()  # as core after a restart
        fake_core.reply(
            user, req, ok=False, error="your session key is not registered: sign in again"
        )

    fake_core.on_request = restarted_core
    window.actions_.disable_camera("cam1")
    qtbot.waitUntil(lambda: "sent again" in window.result_label.text(), timeout=5_000)
    qtbot.waitUntil(lambda: bool(fake_core.operator_keys), timeout=5_000)  # re-announced


def test_a_refused_name_is_one_sentence_and_nothing_is_sent(
    window: MainWindow, media: Path
) -> None:
    assert window.actions_.name_person("u7", "p1") is None
    text = window.result_label.text()
    assert "must not look like a key" in text and "\n" not in text
    photo = media / "faces/train/obama/obama.jpg"
    assert window.actions_.enrol("Eve\x1b[31m", [photo]) is None
    text = window.result_label.text()
    assert "must not hold control characters" in text and "\n" not in text
