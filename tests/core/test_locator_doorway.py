"""Zone events at a doorway: two cameras that disagree, a person walking through,
and the zone dwell (core/locator.py ``zone_dwell_s``), with synthetic geometry.

The site is the demo's server-room door: a camera on each side of it, 0.4 m
apart, looking away from each other. `demo` showed one stranger "seen" by both
at once (the clips loop): the outer camera put him in the corridor, the inner
one in the room, 2.2 m apart; their mean sat on the boundary and the timeline got
an enter/leave pair every 1-3 s.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from core.config import CoreConfig
from core.locating import default_locator
from core.locator import Locator
from core.observation import Observation
from core.site import parse_site
from srs.app.config import SrsConfig
from srs.wire.payloads import Alert, ZoneEvent
from srs.wire.site import CameraPose
from tests.core.sim import observation

DOOR = parse_site(
    {
        "name": "door",
        "width_m": 10.0,
        "height_m": 8.0,
        "zones": [
            {"id": "corridor", "name": "Corridor", "polygon": [[0, 5], [10, 5], [10, 8], [0, 8]]},
            {
                "id": "room",
                "name": "Server room",
                "restricted": True,
                "polygon": [[0, 0], [10, 0], [10, 5], [0, 5]],
            },
        ],
        "cameras": [
            {"id": "out", "x": 5, "y": 5.2, "height_m": 1.8, "yaw_deg": 90, "hfov_deg": 50},
            {"id": "in", "x": 5, "y": 4.8, "height_m": 1.8, "yaw_deg": -90, "hfov_deg": 50},
        ],
    }
)
OUT, IN = (c for c in DOOR.plan.cameras)
STRANGER: dict[str, Any] = {"person": 1, "identity": "unknown", "label": "Unknown 1"}


def frames(cam: CameraPose, y: float, seconds: float, rng: random.Random) -> list[Observation]:
    """``cam`` sees the stranger at (5, y) ~4 times a second for ``seconds``, with
    the gaps of a loaded edge node: frames 0.15-0.45 s apart, and a 1.3 s stretch
    every 8 s (at a different phase per camera) with no face at all."""
    phase = 2.0 if cam.camera_id == "out" else 6.0
    out, t = [], 100.0 + rng.random() * 0.3
    while t < 100.0 + seconds:
        if not phase <= (t - 100.0) % 8.0 < phase + 1.3:
            out.append(observation(cam, 5.0 + rng.uniform(-0.05, 0.05), y, t, **STRANGER))
        t += rng.uniform(0.15, 0.45)
    return out


def play(loc: Locator, obs: list[Observation]) -> tuple[list[ZoneEvent], list[Alert]]:
    """Observations in time order, one message each, and a tick every second."""
    events: list[ZoneEvent] = []
    alerts: list[Alert] = []
    next_tick = 101.0
    for o in sorted(obs, key=lambda o: o.seen_at):
        while o.seen_at >= next_tick:
            tick = loc.tick(next_tick)
            events += tick.zone_events
            alerts += tick.alerts
            next_tick += 1.0
        res = loc.observe([o], now=o.seen_at)
        assert res.positions, "every observation moves the person at once"
        events += res.zone_events
        alerts += res.alerts
    return events, alerts


def test_a_stranger_on_the_door_seen_by_two_disagreeing_cameras_does_not_flap() -> None:
    rng = random.Random(7)
    obs = frames(OUT, 6.1, 60, rng) + frames(IN, 3.9, 60, rng)
    events, alerts = play(Locator(DOOR), obs)
    # Placed once (the first camera's zone) and left there: no flood of pairs.
    assert len(events) <= 3, [(e.action, e.zone, round(e.at - 100, 1)) for e in events]
    assert len([a for a in alerts if a.kind == "unknown_in_restricted"]) <= 1
    # Without the dwell, each moment one camera misses him moves him across.
    flapping, _ = play(Locator(DOOR, zone_dwell_s=0), obs)
    assert len(flapping) > 3 * len(events)


def test_a_position_is_one_cameras_reading_not_the_point_between() -> None:
    loc = Locator(DOOR, smoothing=1.0)
    loc.observe([observation(OUT, 5, 6.1, 100, **STRANGER)], now=100)
    res = loc.observe([observation(IN, 5, 3.9, 100.2, **STRANGER)], now=100.2)
    (pos,) = res.positions
    assert abs(pos.y - 6.1) < 0.2 and pos.zone == "corridor"  # where he was placed
    assert pos.cameras == ["in", "out"]


def walk_through(dwell_s: float) -> tuple[list[ZoneEvent], list[Alert], float]:
    """The stranger walks from the corridor into the room at 1.2 m/s; each camera
    sees him on its side of the door, 4 frames a second. Returns the events,
    alerts and the time he was first placed in the room."""
    loc = Locator(DOOR, zone_dwell_s=dwell_s)
    obs = []
    for i in range(40):
        t = 100.0 + i * 0.25
        y = 7.0 - 1.2 * (t - 100.0)
        if y >= 5.6:
            obs.append(observation(OUT, 5, y, t, **STRANGER))
        elif 0.8 <= y <= 4.4:
            obs.append(observation(IN, 5, y, t, **STRANGER))
    events, alerts = play(loc, obs)
    first_in_room = min(o.seen_at for o in obs if o.camera_id == "in")
    return events, alerts, first_in_room


def test_walking_through_the_door_is_one_leave_and_one_enter() -> None:
    events, alerts, in_room = walk_through(dwell_s=1.0)
    assert [(e.action, e.zone) for e in events] == [
        ("enter", "corridor"),
        ("leave", "corridor"),
        ("enter", "room"),
    ]
    (alert,) = alerts
    assert alert.kind == "unknown_in_restricted" and alert.zone == "room"
    # The events say when he got there (not when the dwell confirmed it)...
    assert events[-1].at == alert.at and abs(alert.at - in_room) <= 0.5
    # ... and without a dwell they are the same.
    undwelt, alerts0, _ = walk_through(dwell_s=0.0)
    assert [(e.action, e.zone) for e in undwelt] == [(e.action, e.zone) for e in events]
    assert len(alerts0) == 1


def test_a_short_excursion_is_no_zone_change_a_held_one_is() -> None:
    loc = Locator(DOOR, smoothing=1.0, zone_dwell_s=1.0)
    events: list[ZoneEvent] = []
    alerts: list[Alert] = []

    def seen(cam: CameraPose, y: float, times: list[float]) -> None:
        for t in times:
            res = loc.observe([observation(cam, 5, y, t, **STRANGER)], now=t)
            events.extend(res.zone_events)
            alerts.extend(res.alerts)

    # Into the restricted room: at once, with its alert, dwell or not.
    seen(OUT, 6.5, [100.0, 100.2, 100.4])
    seen(IN, 3.5, [101.5, 101.8])
    assert [(e.action, e.zone, e.at) for e in events] == [
        ("enter", "corridor", 100.0),
        ("leave", "corridor", 101.5),
        ("enter", "room", 101.5),
    ]
    assert len(alerts) == 1
    # The inner camera loses him; the outer one places him in the corridor for
    # 0.6 s; then the inner one sees him again where he was: no zone change.
    seen(OUT, 6.5, [103.0, 103.3, 103.6])
    seen(IN, 3.5, [103.8, 104.0, 104.2])
    assert len(events) == 3
    # Over 1 s in the corridor: he left the room (when he got there).
    seen(OUT, 6.5, [105.5, 105.8, 106.1, 106.4, 106.7])
    assert [(e.action, e.zone, e.at) for e in events][3:] == [
        ("leave", "room", 105.5),
        ("enter", "corridor", 105.5),
    ]
    # Back into the room for a moment: the same stay (no alert to hurry for), so
    # the dwell applies: no events until he stays there.
    seen(IN, 3.5, [108.0, 108.3, 108.6])
    seen(OUT, 6.5, [108.8, 109.0])
    assert len(events) == 5
    seen(IN, 3.5, [110.5, 110.8, 111.1, 111.4, 111.7])
    assert [(e.action, e.zone, e.at) for e in events][5:] == [
        ("leave", "corridor", 110.5),
        ("enter", "room", 110.5),
    ]
    assert len(alerts) == 1  # one stay, one alert


def test_a_change_nobody_contradicts_is_confirmed_by_the_tick() -> None:
    """Seen once in the corridor after the room and never again: the tick confirms
    the change once the dwell has passed."""
    loc = Locator(DOOR, smoothing=1.0, zone_dwell_s=1.0)
    loc.observe([observation(IN, 5, 3.0, 100, **STRANGER)], now=100)
    res = loc.observe([observation(OUT, 5, 6.5, 101.3, **STRANGER)], now=101.3)
    assert not res.zone_events
    assert res.positions[0].y > 6  # the position itself is not held back
    assert res.positions[0].zone == "room"  # the zone confirmed so far
    assert not loc.tick(102.0).zone_events  # 0.7 s: not yet
    assert [(e.action, e.zone, e.at) for e in loc.tick(102.5).zone_events] == [
        ("leave", "room", 101.3),
        ("enter", "corridor", 101.3),
    ]


def test_a_known_person_entering_the_room_waits_for_the_dwell() -> None:
    """Known people raise no alert, so nothing hurries their entry."""
    loc = Locator(DOOR, smoothing=1.0, zone_dwell_s=1.0)
    loc.observe([observation(OUT, 5, 6.5, 100)], now=100)
    assert not loc.observe([observation(IN, 5, 3.5, 101.5)], now=101.5).zone_events
    res = loc.observe([observation(IN, 5, 3.5, 102.5)], now=102.5)
    assert [(e.action, e.zone) for e in res.zone_events] == [
        ("leave", "corridor"),
        ("enter", "room"),
    ]
    assert not res.alerts


def test_someone_first_seen_inside_is_placed_at_once() -> None:
    loc = Locator(DOOR, zone_dwell_s=5.0)
    res = loc.observe([observation(IN, 5, 3.0, 100, **STRANGER)], now=100)
    assert [(e.action, e.zone) for e in res.zone_events] == [("enter", "room")]
    assert len(res.alerts) == 1


def test_the_dwell_is_configured_in_core(tmp_path: Path) -> None:
    site = Path(__file__).parents[2] / "config" / "demo-site.toml"
    cfg = SrsConfig(data_dir=tmp_path, core=CoreConfig(site_file=site, zone_dwell_s=2.5))
    loc = default_locator(cfg)
    assert isinstance(loc, Locator) and loc.zone_dwell_s == 2.5
    assert CoreConfig().zone_dwell_s == 1.0
