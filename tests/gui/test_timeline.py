"""The timeline: events in time order, zones by name, sightings only on request."""

from __future__ import annotations

import time

from gui.main_window import MainWindow
from gui.timeline import EventTableModel, event_from
from srs.wire import payloads, topics
from tests.gui.helpers import FakeCore, demo_plan


def sighting(sid: int, at: float, **kw: object) -> payloads.Sighting:
    values: dict[str, object] = dict(
        person_key="t-cam1-3",
        identity="unidentified",
        label="Unidentified",
        camera_id="cam1",
        seen_at=at,
        sighting_id=sid,
        zone="lab",
    )
    values.update(kw)
    return payloads.Sighting.model_validate(values)


def zone_event(action: str, at: float) -> payloads.ZoneEvent:
    return payloads.ZoneEvent(
        person_key="u3",
        identity="unknown",
        label="Unknown 3",
        zone="lab",
        action=action,  # type: ignore[arg-type]
        at=at,
        restricted=True,
    )


def test_rows_keep_time_order_whatever_the_arrival_order(qapp) -> None:
    model = EventTableModel(max_rows=3)
    for at in (10.0, 30.0, 20.0, 5.0, 25.0):
        model.add(event_from(zone_event("enter", at)))
    assert [r.at for r in model.rows()] == [30.0, 25.0, 20.0]  # newest first, bounded


def test_the_timeline_shows_events_and_raw_sightings_on_request(
    qtbot, window: MainWindow, fake_core: FakeCore
) -> None:
    """The flood: every raw sighting as a row, out of time order, zone ids. Now
    events only (in time order, zones by name) until the guard asks for sightings."""
    fake_core.publish(topics.site(), demo_plan(), retain=True)
    qtbot.waitUntil(lambda: window.plan.plan is not None, timeout=5_000)
    now = time.time()
    window.on_event(zone_event("enter", now - 5))
    window.on_sightings(payloads.SightingBatch(sightings=[sighting(i, now - i) for i in range(4)]))
    window.on_event(zone_event("leave", now - 1))
    window.on_event(zone_event("enter", now - 3))  # arrives late, shown in its place
    panel = window.events_panel
    shown = [panel.proxy.index(r, 1).data() for r in range(panel.proxy.rowCount())]
    assert shown == ["left", "entered", "entered"]
    assert panel.proxy.index(0, 3).data() == "Lab"  # the zone by its name, not "lab"
    assert panel.proxy.index(0, 4).data() == "left Lab (restricted)"
    panel.show_sightings.setChecked(True)
    assert panel.proxy.rowCount() == 7
    times = [r.at for r in window.events.rows()]
    assert times == sorted(times, reverse=True)
    assert "seen in Lab" in window.events.rows()[0].detail
