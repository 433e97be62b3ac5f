"""gui/panels.py: the People, Cameras and Events panels (widgets on their own models,
no window, no broker)."""

from __future__ import annotations

from PySide6.QtCore import QDateTime

from gui.models import CameraTableModel, PeopleTableModel
from gui.panels import CamerasPanel, EventsPanel, PeoplePanel, unidentified_summary
from gui.timeline import EventRow, EventTableModel
from tests.gui.helpers import position


def crowd() -> list:
    return [
        position("p1", 1, 1, label="Ada", zone="lab"),
        position("u7", 2, 2, identity="unknown", label="Unknown 7", zone="hall"),
        position("t-cam1-3", 3, 3, identity="unidentified", label="Unidentified", zone="hall"),
        position("t-cam1-4", 3, 3, identity="unidentified", label="Unidentified", zone="hall"),
        position("t-cam2-1", 4, 4, identity="unidentified", label="Unidentified"),
    ]


def test_the_unidentified_are_one_line_unless_listed(qtbot) -> None:
    model = PeopleTableModel()
    panel = PeoplePanel(model)
    qtbot.addWidget(panel)
    model.set_zone_names({"hall": "Corridor"})
    model.apply(crowd())
    assert unidentified_summary(model) == "3 unidentified: Corridor 2, no zone 1"
    assert panel.unidentified.text() == "3 unidentified: Corridor 2, no zone 1"
    assert panel.proxy.rowCount() == 2  # Ada and Unknown 7
    panel.show_unidentified.setChecked(True)
    assert panel.proxy.rowCount() == 5


def test_the_filter_and_selection_work_on_keys(qtbot) -> None:
    model = PeopleTableModel()
    panel = PeoplePanel(model)
    qtbot.addWidget(panel)
    model.apply(crowd())
    assert panel.selected_key() is None
    panel.select("u7")
    assert panel.selected_key() == "u7"
    panel.filter.setText("ada")
    assert panel.proxy.rowCount() == 1
    assert unidentified_summary(PeopleTableModel()) == ""


def test_the_selected_camera(qtbot) -> None:
    model = CameraTableModel()
    model.add_cameras(["door", "yard"])
    panel = CamerasPanel(model)
    qtbot.addWidget(panel)
    assert panel.selected_camera() is None
    panel.view.selectRow(1)
    assert panel.selected_camera() == "yard"


def test_a_search_names_a_key_a_desk_name_or_a_plain_name(qtbot) -> None:
    panel = EventsPanel(EventTableModel())
    qtbot.addWidget(panel)
    panel.resolve = {"Unknown 7": "u7"}.get
    panel.person.setText("p3")
    assert panel.query().person_key == "p3"
    panel.person.setText("  Unknown   7 ")
    assert (panel.query().person_key, panel.query().person_name) == ("u7", None)
    panel.person.setText("Ada Lovelace")
    assert (panel.query().person_key, panel.query().person_name) == (None, "Ada Lovelace")
    panel.camera.setText(" door ")
    assert panel.query().camera_id == "door"
    assert panel.query().since is None
    panel.use_range.setChecked(True)
    panel.since.setDateTime(QDateTime.fromSecsSinceEpoch(1_700_000_000))
    assert panel.query().since == 1_700_000_000


def test_a_bad_search_is_said_and_not_sent(qtbot) -> None:
    panel = EventsPanel(EventTableModel())
    qtbot.addWidget(panel)
    sent: list[object] = []
    panel.search_requested.connect(sent.append)
    panel.camera.setText("hall/door")
    panel.search.click()
    assert sent == []
    assert panel.mode.text().startswith("cannot search:")
    panel.camera.setText("door")
    panel.search.click()
    assert len(sent) == 1


def test_sightings_show_in_history_and_the_selection_maps_to_the_model(qtbot) -> None:
    model = EventTableModel()
    panel = EventsPanel(model)
    qtbot.addWidget(panel)
    model.add(EventRow(1.0, "sighting", "p1", "Ada", "door", "seen", sighting_id=5))
    model.add(EventRow(2.0, "enter", "p1", "Ada", "Lab", "entered"))
    assert panel.proxy.rowCount() == 1  # live: events only
    panel.set_history(True)
    assert panel.proxy.rowCount() == 2
    panel.view.selectRow(panel.proxy.mapFromSource(model.index(0, 0)).row())
    assert panel.selected_row() == 0
    panel.set_history(False)
    assert panel.proxy.rowCount() == 1
