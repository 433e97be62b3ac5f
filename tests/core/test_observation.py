"""core/observation.py: identity keys, and what a locator without a site gives back."""

from __future__ import annotations

from core.observation import (
    LocatorResult,
    NullLocator,
    Observation,
    known_key,
    unidentified_key,
    unknown_key,
)
from srs.wire.payloads import BBox


def observation(person_key: str | None, identity: str, label: str, track: int) -> Observation:
    return Observation(
        camera_id="door",
        track_id=track,
        kind="face",
        bbox=BBox(x=10, y=20, w=40, h=40),
        frame_width=640,
        frame_height=480,
        seen_at=100.0,
        identity=identity,  # type: ignore[arg-type]
        person_key=person_key,
        label=label,
        confidence=0.9,
    )


def test_keys_name_their_kind() -> None:
    assert (known_key(3), unknown_key(7)) == ("p3", "u7")
    assert unidentified_key("door", 12) == "t-door-12"


def test_without_a_site_everyone_is_placed_nowhere() -> None:
    obs = [
        observation("p3", "known", "Ada", 1),
        observation("u7", "unknown", "Unknown 7", 2),
        observation(None, "unidentified", "Unidentified", 5),
    ]
    res = NullLocator().observe(obs, now=100.0)
    assert [(p.person_key, p.identity, p.label) for p in res.placements] == [
        ("p3", "known", "Ada"),
        ("u7", "unknown", "Unknown 7"),
        ("t-door-5", "unidentified", "Unidentified"),  # a track's own key
    ]
    assert all((p.x, p.y, p.zone) == (None, None, None) for p in res.placements)
    assert (res.positions, res.zone_events, res.alerts) == ([], [], [])


def test_results_do_not_share_their_lists() -> None:
    a, b = LocatorResult(), LocatorResult()
    a.positions.append(None)  # type: ignore[arg-type]
    assert b.positions == []
