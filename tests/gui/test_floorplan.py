"""The plan: faint unidentified dots that never cover a name; a hint without a plan."""

from __future__ import annotations

from gui.floorplan import FloorPlanView
from gui.main_window import MainWindow
from tests.gui.helpers import demo_plan, position


def test_unidentified_people_are_faint_dots_under_every_name(qtbot) -> None:
    view = FloorPlanView()
    qtbot.addWidget(view)
    view.set_site(demo_plan())
    named = position("p1", 5, 5, label="Alice")
    crowd = [
        position(f"t-cam1-{i}", 5 + 0.1 * i, 5, identity="unidentified", label="Unidentified")
        for i in range(5)
    ]
    view.apply_positions([*crowd, named])  # drawn after Alice would once have covered her
    alice = view.markers["p1"]
    for key in (p.person_key for p in crowd):
        dot = view.markers[key]
        assert dot.label.text() == ""  # no name to show
        assert dot.zValue() < alice.zValue()  # under Alice's marker and her name
        assert dot.rect().width() < alice.rect().width()
        assert dot.brush().color().alpha() < 255  # faint
        assert dot.trail.pen().color().alpha() == 0  # no trail
    # Every item drawn over Alice's name is hers (the crowd is below it).
    label_rect = alice.label.sceneBoundingRect()
    above = [
        item
        for item in view.scene().items(label_rect)
        if item.zValue() >= alice.zValue() and item.topLevelItem() is not alice
    ]
    assert above == []
    # Recognised later: the same marker becomes a full, named one.
    view.apply_positions([position("t-cam1-0", 5, 5, identity="unknown", label="Unknown 2")])
    assert view.markers["t-cam1-0"].zValue() == alice.zValue()


def test_a_site_without_a_plan_says_how_to_add_one(qtbot, window: MainWindow) -> None:
    hint = window.plan.hint
    assert hint.isVisible() and "srs site check" in hint.toPlainText()
    assert "site_file" in hint.toPlainText()
    window.on_site(demo_plan())
    assert not hint.isVisible()
