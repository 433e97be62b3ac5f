"""The headless view: named people first, unidentified ones grouped, latency camera
to screen (not core's internal time)."""

from __future__ import annotations

from srs.app.live_table import people_rows, render
from srs.app.live_view import LiveState
from srs.wire.payloads import CoreStatus, PersonPosition

NOW = 1_800_000_000.0


def _pos(key: str, identity: str, label: str, zone: str, **extra: object) -> PersonPosition:
    return PersonPosition.model_validate(
        {
            "person_key": key,
            "identity": identity,
            "label": label,
            "x": 1.0,
            "y": 2.0,
            "zone": zone,
            "confidence": 0.5,
            "last_seen": NOW - 1,
            "cameras": ["cam"],
            **extra,
        }
    )


def test_named_first_then_anonymous_then_unidentified_grouped_per_zone() -> None:
    positions = [
        _pos("x1", "unidentified", "Unidentified", "classroom"),
        _pos("u3", "unknown", "Unknown 3", "server-room", evidence="matched"),
        _pos("x2", "unidentified", "Unidentified", "classroom"),
        _pos("p6", "known", "Alice Martin", "server-room", evidence="carried", evidence_age_s=2.4),
        _pos("x3", "unidentified", "Unidentified", "corridor"),
        _pos("p1", "known", "Zoe", "corridor", evidence="matched"),
    ]
    rows = people_rows(positions, NOW)
    assert [r.split("  ")[0] for r in rows] == [
        "Alice Martin",
        "Zoe",
        "Unknown 3",
        "2 unidentified",
        "1 unidentified",
    ]
    assert "carried 2 s" in rows[0] and "classroom" in rows[3] and "corridor" in rows[4]
    assert people_rows([], NOW) == ["(nobody placed yet)"]


def test_latency_is_from_capture_to_this_view_and_core_time_is_not_shown() -> None:
    state = LiveState()
    state.core = CoreStatus(state="online", sent_at=NOW, latency_p50_ms=3.0, latency_p99_ms=9.0)
    assert state.latency_percentiles() is None
    state.latency_ms.extend([40.0, 60.0, 50.0, 1200.0])
    assert state.latency_percentiles() == (50.0, 1200.0)
    text = render(state, NOW)
    assert "camera -> screen: p50 50 ms, p99 1200 ms" in text
    assert "3.0" not in text  # core's ingest time is not called latency here


def test_seen_by_names_anonymous_identities_placed_by_all_the_cameras() -> None:
    state = LiveState()
    state.cameras_of = {
        "u1": {"corridor", "server-room"},
        "u2": {"corridor"},
        "p6": {"corridor", "server-room"},  # named: not a stranger to point out
    }
    assert state.seen_by("corridor", "server-room") == ["u1"]
    assert state.seen_by("corridor") == ["u1", "u2"]
