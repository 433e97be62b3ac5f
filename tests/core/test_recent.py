"""core/recent.py: the recent zone events and alerts a signing-in dashboard asks for."""

from __future__ import annotations

from core.recent import RecentEvents
from srs.wire.payloads import Alert, CameraStatus, ZoneEvent


def zone_event(at: float, person: str = "p1") -> ZoneEvent:
    return ZoneEvent(
        person_key=person, identity="known", label="Ada", zone="lab", action="enter", at=at
    )


def alert(at: float) -> Alert:
    return Alert(
        alert_id=f"a{int(at)}",
        kind="unknown_in_restricted",
        severity="warning",
        message="Unknown 4 in the lab",
        at=at,
        person_key="u4",
        zone="lab",
    )


def test_events_and_alerts_come_back_newest_first_as_json() -> None:
    recent = RecentEvents()
    recent.record(zone_event(100.0))
    recent.record(alert(200.0))
    recent.record(CameraStatus(camera_id="door", state="online", sent_at=150.0))  # not kept
    out = recent.since(now=300.0)
    assert [e["at"] for e in out] == [200.0, 100.0]
    assert out[1]["action"] == "enter"


def test_the_window_is_bounded_by_the_question_and_by_age() -> None:
    recent = RecentEvents(max_age_s=1000.0)
    for at in (100.0, 1500.0, 2000.0, 2500.0):
        recent.record(zone_event(at))
    assert [e["at"] for e in recent.since(now=2600.0)] == [2500.0, 2000.0]  # 1500 too old
    assert [e["at"] for e in recent.since(since=2100.0, now=2600.0)] == [2500.0]
    assert [e["at"] for e in recent.since(until=2100.0, now=2600.0)] == [2000.0]
    assert recent.since(since=0.0, now=2600.0)[-1]["at"] == 2000.0  # age still applies


def test_only_the_newest_are_kept() -> None:
    recent = RecentEvents(max_events=3)
    for at in range(5):
        recent.record(zone_event(float(at)))
    assert [e["at"] for e in recent.since(now=10.0)] == [4.0, 3.0, 2.0]
