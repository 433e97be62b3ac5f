"""The locate stage alone: recognised detections in, placements and the live view out."""

from __future__ import annotations

from core.identify import Identity, Recognised
from core.messages import Accepted
from core.observation import LocatorResult, Observation, Placement
from core.place import place
from srs.wire import topics
from srs.wire.payloads import BBox, PersonPosition
from tests.core.ingest_helpers import batch

OBAMA = Identity("known", "p1", "Barack Obama", 0.9, person_id=1, evidence="matched")
FACE = (BBox(x=10, y=10, w=60, h=60), [0.0] * 128)


class Hall:
    """Puts everyone in the hall and reports a position for each."""

    def __init__(self) -> None:
        self.calls: list[list[Observation]] = []

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        self.calls.append(observations)
        res = LocatorResult()
        for o in observations:
            key = o.person_key or f"t-{o.camera_id}-{o.track_id}"
            res.placements.append(Placement(key, o.identity, o.label, 1.0, 2.0, "hall"))
            res.positions.append(
                PersonPosition(
                    person_key=key,
                    identity=o.identity,
                    label=o.label,
                    x=1.0,
                    y=2.0,
                    zone="hall",
                    confidence=o.confidence,
                    last_seen=o.seen_at,
                    cameras=[o.camera_id],
                )
            )
        return res


class Broken:
    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        raise RuntimeError("site model bug")


def test_each_message_is_located_in_order_and_its_positions_are_the_live_view():
    new = [Accepted(batch("cam1", 1, [FACE], profiles=1), 0.0), Accepted(batch("cam2", 1, []), 0.0)]
    hall = Hall()
    placed = place(new, Recognised({(0, 0): OBAMA}), hall, 5.0)
    assert [len(c) for c in hall.calls] == [2, 0]
    assert [(o.identity, o.label) for o in hall.calls[0]] == [
        ("known", "Barack Obama"),
        ("unidentified", "Unidentified"),
    ]
    assert [[p.zone for p in ps] for ps in placed.placements] == [["hall", "hall"], []]
    assert [o.topic for o in placed.live] == [
        topics.position("p1"),
        topics.position("t-cam1-100"),
    ]
    assert all(o.retain for o in placed.live)


def test_a_failing_locator_places_nobody_and_publishes_nothing():
    new = [Accepted(batch("cam1", 1, [FACE]), 0.0)]
    placed = place(new, Recognised({(0, 0): OBAMA}), Broken(), 5.0)
    assert placed.live == []
    ((p,),) = placed.placements
    assert (p.person_key, p.x, p.y, p.zone) == ("p1", None, None, None)
