"""gui/plan_items.py: camera cones and people markers (plan metres, y up; scene y down)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from gui.plan_items import (
    CONE_DISABLED,
    CONE_OFFLINE,
    CONE_ONLINE,
    FAINT_R,
    MARKER_R,
    SCALE,
    Z_FAINT,
    Z_MARKER,
    CameraItem,
    PersonMarker,
    polygon,
    scene,
)
from srs.wire import site
from tests.gui.helpers import position


def test_plan_metres_map_to_scene_units_with_y_down() -> None:
    assert scene(2, 3) == QPointF(2 * SCALE, -3 * SCALE)
    square = polygon([site.Point(x=0, y=0), site.Point(x=1, y=0), site.Point(x=1, y=1)])
    assert [square.at(i) for i in range(3)] == [scene(0, 0), scene(1, 0), scene(1, 1)]


def test_a_cone_points_where_the_camera_looks_and_shows_its_state(qapp: object) -> None:
    east = CameraItem(site.CameraPose(camera_id="door", x=0, y=0, yaw_deg=0, hfov_deg=60), 5)
    box = east.path().boundingRect()
    assert box.left() >= -1 and box.right() > 4 * SCALE  # it looks along +x
    assert east.brush().color() == CONE_OFFLINE  # until the camera says otherwise
    east.set_online(True)
    assert (east.online, east.brush().color()) == (True, CONE_ONLINE)
    assert east.toolTip() == "camera door: online"
    east.set_online(True, disabled=True)
    assert (east.online, east.disabled, east.brush().color()) == (False, True, CONE_DISABLED)
    assert east.pen().style() == Qt.PenStyle.DashLine


def test_walls_clip_a_cone(qapp: object) -> None:
    pose = site.CameraPose(camera_id="door", x=1, y=1, yaw_deg=0)
    room = polygon([site.Point(x=0, y=0), site.Point(x=3, y=0), site.Point(x=3, y=2),
                    site.Point(x=0, y=2)])  # fmt: skip
    clipped = CameraItem(pose, 10, clip=room).path().boundingRect()
    assert clipped.right() <= 3 * SCALE + 0.5


def test_a_marker_glides_to_its_target_and_comes_to_rest(qapp: object) -> None:
    marker = PersonMarker(position("p1", 0, 0, label="Ada"), trail_length=5)
    assert marker.label.text() == "Ada"
    marker.update_from(position("p1", 1, 0, label="Ada"))
    assert marker.step()  # moving
    assert 0 < marker.pos().x() < SCALE
    for _ in range(100):
        if not marker.step():
            break
    assert marker.pos() == scene(1, 0)
    assert not marker.step()  # at rest: nothing to redraw


def test_the_unidentified_are_small_faint_and_unnamed(qapp: object) -> None:
    pos = position("t-cam1-3", 1, 1, identity="unidentified", label="Unidentified")
    marker = PersonMarker(pos, trail_length=5)
    assert marker.rect().width() == 2 * FAINT_R
    assert marker.zValue() == Z_FAINT
    assert marker.label.text() == ""
    marker.update_from(position("t-cam1-3", 1, 1, identity="known", label="Ada"))
    assert (marker.rect().width(), marker.zValue(), marker.label.text()) == (
        2 * MARKER_R,
        Z_MARKER,
        "Ada",
    )


def test_the_tooltip_says_how_and_where(qapp: object) -> None:
    pos = position("p1", 1, 1, label="Ada", zone="lab").model_copy(
        update={"evidence": "carried", "evidence_age_s": 3.0}
    )
    marker = PersonMarker(pos, trail_length=5, zones={"lab": "Server room"})
    assert marker.toolTip() == "Ada (carried 3 s) — Server room"
