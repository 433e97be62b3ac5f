"""gui/operator_actions.py: the toolbar actions build the right commands from what is
selected or given, and say why when they cannot (no broker: a recording worker;
signed round trips through a broker are tests/gui/test_actions.py)."""

from __future__ import annotations

from pathlib import Path

from gui.timeline import EventRow
from srs.wire import commands
from tests.gui.desk import desk
from tests.gui.helpers import position


def test_naming_uses_the_selected_person(qtbot) -> None:
    win, worker = desk(qtbot)
    assert win.actions_.name_person(name="Kit") is None
    assert "select a person" in win.result_label.text()
    win.people.apply([position("u7", 1, 1, identity="unknown", label="Unknown 7")])
    win.people_panel.select("u7")
    assert win.actions_.name_person(name="  Kit ") == "r1"
    assert worker.sent == [commands.NameIdentity(person_key="u7", name="Kit")]
    assert "sent, waiting for core" in win.result_label.text()


def test_a_refused_name_is_one_sentence_and_nothing_is_sent(qtbot) -> None:
    win, worker = desk(qtbot)
    assert win.actions_.name_person("u7", "p3") is None  # a name may not look like a key
    assert worker.sent == []
    assert win.result_label.text().startswith("✖ ")
    assert "\n" not in win.result_label.text()


def test_merge_rejects_and_camera_switches(qtbot) -> None:
    win, worker = desk(qtbot)
    assert win.actions_.merge("u7") is None
    assert "nobody else to merge with" in win.result_label.text()
    win.actions_.merge("u7", "p1")
    win.actions_.disable_camera("door")
    win.actions_.enable_camera("door")
    assert worker.sent == [
        commands.MergePeople(source_key="u7", target_key="p1"),
        commands.SetCameraEnabled(camera_id="door", enabled=False),
        commands.SetCameraEnabled(camera_id="door", enabled=True),
    ]
    assert win.actions_.disable_camera() is None
    assert "select a camera" in win.result_label.text()


def test_not_this_person_needs_a_selected_sighting(qtbot) -> None:
    win, worker = desk(qtbot)
    assert win.actions_.reject_sighting() is None
    assert "select a sighting" in win.result_label.text()
    win.events_panel.set_history(True)
    win.events.add(EventRow(1.0, "sighting", "p1", "Ada", "door", "seen", sighting_id=42))
    win.events_panel.view.selectRow(0)
    assert win.actions_.reject_sighting() == "r1"
    assert worker.sent == [commands.RejectSighting(sighting_id=42)]


def test_enrol_reads_real_photos_and_refuses_none(qtbot, media: Path) -> None:
    win, worker = desk(qtbot)
    assert win.actions_.enrol("Ada", []) is None
    assert "choose at least one photo" in win.result_label.text()
    photo = media / "faces" / "train" / "obama" / "obama.jpg"
    assert win.actions_.enrol("Barack", [photo]) == "r1"
    sent = worker.sent[0]
    assert isinstance(sent, commands.EnrolPerson)
    assert (sent.name, len(sent.images_jpeg_b64)) == ("Barack", 1)


def test_while_disconnected_the_worker_says_so(qtbot) -> None:
    win, worker = desk(qtbot)
    worker.online = False
    assert win.actions_.disable_camera("door") is None
    assert "not connected to the broker" in win.result_label.text()
    win.worker = None
    assert win.actions_.send(commands.ListPeople()) is None
    assert win.result_label.text() == "✖ not signed in"
