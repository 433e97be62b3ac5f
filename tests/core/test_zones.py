"""Point-in-polygon, zone lookup and hysteresis."""

from __future__ import annotations

from core.zones import (
    ZoneIndex,
    ZoneShape,
    distance_to_boundary,
    point_in_polygon,
    polygon_area,
    self_intersects,
)

SQUARE = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0))
L_SHAPE = ((0.0, 0.0), (4.0, 0.0), (4.0, 1.0), (1.0, 1.0), (1.0, 4.0), (0.0, 4.0))


def test_area_and_orientation() -> None:
    assert polygon_area(SQUARE) == 16.0
    assert polygon_area(SQUARE[::-1]) == -16.0
    assert polygon_area(L_SHAPE) == 7.0
    assert polygon_area(((0, 0), (1, 1), (2, 2))) == 0.0


def test_point_in_polygon() -> None:
    assert point_in_polygon(2, 2, SQUARE)
    assert not point_in_polygon(5, 2, SQUARE)
    assert point_in_polygon(4, 2, SQUARE)  # on an edge counts as inside
    assert point_in_polygon(0, 0, SQUARE)  # a corner too
    assert point_in_polygon(0.5, 3, L_SHAPE)
    assert not point_in_polygon(3, 3, L_SHAPE)  # in the notch of the L


def test_distance_to_boundary() -> None:
    assert distance_to_boundary(2, 1, SQUARE) == 1.0
    assert distance_to_boundary(6, 2, SQUARE) == 2.0


def test_self_intersection() -> None:
    assert not self_intersects(SQUARE)
    assert not self_intersects(L_SHAPE)
    assert self_intersects(((0, 0), (4, 4), (4, 0), (0, 4)))  # bow tie


HALL = ZoneShape("hall", ((0, 0), (10, 0), (10, 4), (0, 4)))
ROOM = ZoneShape("room", ((0, 4), (10, 4), (10, 8), (0, 8)), restricted=True)
DESK = ZoneShape("desk", ((4, 5), (6, 5), (6, 7), (4, 7)))
INDEX = ZoneIndex([HALL, ROOM, DESK], margin_m=0.3)


def test_smallest_containing_zone_wins() -> None:
    assert INDEX.lookup(5, 6) is DESK
    assert INDEX.lookup(1, 6) is ROOM
    assert INDEX.lookup(1, 1) is HALL
    assert INDEX.lookup(11, 1) is None


def test_hysteresis_keeps_a_person_at_a_doorway() -> None:
    zone = INDEX.update(None, 5, 3.9)
    assert zone == "hall"
    for y in (4.1, 3.95, 4.2, 4.05, 3.9):  # jitter across the wall
        zone = INDEX.update(zone, 5.0 if y < 4 else 1.0, y)
        assert zone == "hall"
    assert INDEX.update(zone, 1.0, 4.5) == "room"  # clearly through


def test_nested_zone_needs_a_clear_step_inside() -> None:
    assert INDEX.update("room", 4.1, 6.0) == "room"  # grazing the desk
    assert INDEX.update("room", 5.0, 6.0) == "desk"  # 1 m inside it
    assert INDEX.update("desk", 3.9, 6.0) == "desk"  # just off it
    assert INDEX.update("desk", 3.0, 6.0) == "room"


def test_leaving_every_zone() -> None:
    assert INDEX.update("hall", 10.2, 2.0) == "hall"
    assert INDEX.update("hall", 11.0, 2.0) is None
    assert INDEX.update("gone-zone", 1.0, 1.0) == "hall"  # unknown current zone
