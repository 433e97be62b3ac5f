"""The locator with simulated cameras: placement, identity of profiles, zones, alerts."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from core import geometry
from core.locator import HANDOVER_AFTER_S, Locator
from core.observation import LocatorResult
from core.site import parse_site
from srs.wire.payloads import CameraStatus
from srs.wire.site import CameraPose
from tests.core.sim import observation

SITE = parse_site(
    {
        "name": "test site",
        "width_m": 10.0,
        "height_m": 6.0,
        "zones": [
            {"id": "hall", "name": "Hall", "polygon": [[0, 0], [6, 0], [6, 6], [0, 6]]},
            {
                "id": "vault",
                "name": "Vault",
                "restricted": True,
                "polygon": [[6, 0], [10, 0], [10, 6], [6, 6]],
            },
        ],
        "cameras": [
            {"id": "a", "x": 0.1, "y": 0.1, "yaw_deg": 45, "hfov_deg": 90, "image_width": 1280},
            {"id": "b", "x": 9.9, "y": 0.1, "yaw_deg": 135, "hfov_deg": 90, "image_width": 1280},
        ],
    }
)


def cam(camera_id: str) -> CameraPose:
    pose = SITE.camera(camera_id)
    assert pose is not None
    return pose


A, B = cam("a"), cam("b")


def test_two_cameras_place_within_half_a_metre() -> None:
    loc = Locator(SITE)
    for i in range(6):  # 5 fps per camera, interleaved, faces 10 % wider than assumed
        for c in (A, B):
            result = loc.observe(
                [observation(c, 4.0, 3.0, 100 + i * 0.2, real_width=0.165)], now=100 + i * 0.2
            )
    (pos,) = result.positions
    assert math.hypot(pos.x - 4.0, pos.y - 3.0) < 0.5
    assert pos.cameras == ["a", "b"] and pos.person_key == "p1" and pos.zone == "hall"


def test_one_camera_alone_within_the_documented_error() -> None:
    loc = Locator(SITE)
    for true_width in (0.135, 0.165):
        for x, y in ((2.0, 3.0), (4.0, 1.5), (5.5, 5.0)):
            result = loc.observe([observation(A, x, y, 100, real_width=true_width)], now=100)
            loc.forget("p1", 100)
            (p,) = result.placements
            assert p.x is not None and p.y is not None
            distance = math.hypot(x - A.x, y - A.y)
            assert math.hypot(p.x - x, p.y - y) <= geometry.single_view_error_m(distance)


def test_the_locator_never_lends_a_tracks_name() -> None:
    """Ingest decides who a profile is (core/track_identity.py); a profile it could
    not name is the track's stand-in even right after the track's named face."""
    loc = Locator(SITE)
    loc.observe([observation(A, 3, 3, 100, track_id=7)], now=100)
    result = loc.observe(
        [
            observation(
                A, 3.2, 3, 100.5, track_id=7, person=None, kind="profile", label="Unidentified"
            )
        ],
        now=100.5,
    )
    (p,) = result.placements
    assert (p.person_key, p.identity, p.label) == ("t-a-7", "unidentified", "Unidentified")


def test_positions_say_how_the_identity_was_established() -> None:
    loc = Locator(SITE)
    carried = observation(A, 3, 3, 100, track_id=7, kind="profile")
    carried = replace(carried, evidence="carried", evidence_age_s=1.5, confidence=0.4)
    (pos,) = loc.observe([carried], now=100).positions
    assert (pos.person_key, pos.evidence, pos.evidence_age_s) == ("p1", "carried", 1.5)
    assert pos.candidate is None and pos.confidence == 0.4
    maybe = replace(
        observation(A, 3, 3, 101, track_id=8, person=None, label="Unidentified"),
        evidence="possible",
        candidate="Ada Lovelace",
    )
    (pos,) = loc.observe([maybe], now=101).positions
    assert (pos.person_key, pos.identity, pos.evidence) == ("t-a-8", "unidentified", "possible")
    assert pos.candidate == "Ada Lovelace" and pos.label == "Unidentified"


def test_profile_on_another_track_stays_unidentified_until_recognised() -> None:
    loc = Locator(SITE)
    loc.observe([observation(A, 3, 3, 100, track_id=7)], now=100)
    result = loc.observe(
        [
            observation(
                A, 2, 4, 100.2, track_id=8, person=None, kind="profile", label="Unidentified"
            )
        ],
        now=100.2,
    )
    (p,) = result.placements
    assert (p.person_key, p.identity) == ("t-a-8", "unidentified") and p.x is not None
    # The same track turns to the camera and is recognised: the stand-in is retired.
    result = loc.observe(
        [observation(A, 2, 4, 100.4, track_id=8, person=2, label="Grace Hopper")], now=100.4
    )
    assert result.placements[0].person_key == "p2"
    gone = [pos for pos in result.positions if pos.gone]
    assert [g.person_key for g in gone] == ["t-a-8"]
    assert {pos.person_key for pos in loc.people()} == {"p1", "p2"}


def test_an_old_track_lends_no_identity() -> None:
    loc = Locator(SITE, track_ttl_s=10)
    loc.observe([observation(A, 3, 3, 100, track_id=7)], now=100)
    result = loc.observe(
        [observation(A, 3, 3, 120, track_id=7, person=None, kind="profile")], now=120
    )
    assert result.placements[0].person_key == "t-a-7"


def walk(
    loc: Locator, points: list[tuple[float, float]], t0: float = 100, **kw: Any
) -> list[LocatorResult]:
    """Camera a sees one person at each point in turn, 5 frames a second."""
    return [
        loc.observe([observation(A, x, y, t0 + i * 0.2, **kw)], now=t0 + i * 0.2)
        for i, (x, y) in enumerate(points)
    ]


def test_unknown_in_restricted_zone_alerts_once_per_stay() -> None:
    loc = Locator(SITE, smoothing=1.0)
    unknown: dict[str, Any] = {"person": 5, "identity": "unknown", "label": "Unknown 5"}
    results = walk(loc, [(3, 3)] + [(7.0 + 0.1 * (i % 3), 3) for i in range(12)], **unknown)
    alerts = [a for r in results for a in r.alerts]
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert.kind, alert.person_key, alert.zone) == ("unknown_in_restricted", "u5", "vault")
    assert alert.severity == "critical"
    # Step out (for longer than the zone dwell) and back: the same stay, no new alert.
    results = walk(loc, [(3.0, 3.0)] * 7 + [(7.0, 3.0)] * 7, t0=110, **unknown)
    assert [e.action for r in results for e in r.zone_events].count("enter") == 2
    assert sum(len(r.alerts) for r in results) == 0
    # Leave for longer than the grace and come back: a new stay, a new alert.
    walk(loc, [(3, 3)], t0=120, **unknown)
    loc.tick(151)
    results = walk(loc, [(7, 3), (7, 3)], t0=152, **unknown)
    assert sum(len(r.alerts) for r in results) == 1


def test_a_stay_keeps_its_one_alert_across_identity_changes_of_the_track() -> None:
    """The alert storm of `make demo`: a track seen first unidentified (``t-a-1``),
    then recognised as an anonymous identity (``u3``), then lost to a profile again,
    then named by the operator: one person, one stay, one alert."""
    loc = Locator(SITE, smoothing=1.0)
    stand_in: dict[str, Any] = {"person": None, "kind": "profile", "label": "Unidentified"}
    unknown: dict[str, Any] = {"person": 3, "identity": "unknown", "label": "Unknown 3"}
    results = walk(loc, [(7, 3), (7.1, 3)], **stand_in)
    results += walk(loc, [(7.2, 3), (7.3, 3)], t0=101, **unknown)
    results += walk(loc, [(7.3, 3), (7.2, 3)], t0=102, **stand_in)
    results += walk(loc, [(7.1, 3), (5.5, 3), (7, 3)], t0=103, **unknown)  # a flicker out
    results.append(loc.rename("u3", "u9", "Unknown 9", 104, identity="unknown"))
    results += walk(loc, [(7, 3)], t0=105, person=9, identity="unknown", label="Unknown 9")
    assert [(a.person_key, a.zone) for r in results for a in r.alerts] == [("t-a-1", "vault")]
    # Another person in the vault meanwhile still raises their own alert.
    other = walk(loc, [(8, 3)], t0=106, track_id=2, person=4, identity="unknown", label="U4")
    assert [a.person_key for r in other for a in r.alerts] == ["u4"]


def test_a_track_broken_in_two_is_one_stay_two_people_are_two() -> None:
    """The edge lost one man's profile track in the server room and found him again
    as a new track a few seconds later: one stay. Two strangers seen together in the
    room are two stays, two alerts."""
    profile: dict[str, Any] = {"person": None, "kind": "profile", "label": "Unidentified"}
    loc = Locator(SITE, smoothing=1.0)
    results = walk(loc, [(7, 3), (7.1, 3)], track_id=1, **profile)
    results += walk(loc, [(7.2, 3), (7.3, 3)], t0=104, track_id=2, **profile)
    assert [a.person_key for r in results for a in r.alerts] == ["t-a-1"]
    # A new track far from where the lost one was is someone else.
    results = walk(loc, [(9.5, 5.5)], t0=110, track_id=3, **profile)
    assert [a.person_key for r in results for a in r.alerts] == ["t-a-3"]
    two = Locator(SITE, smoothing=1.0)
    results = [
        two.observe(
            [
                observation(A, 7, 3, 100 + i * 0.2, track_id=1, **profile),
                observation(A, 8, 4, 100 + i * 0.2, track_id=2, **profile),
            ],
            now=100 + i * 0.2,
        )
        for i in range(3)
    ]
    assert sorted(str(a.person_key) for r in results for a in r.alerts) == ["t-a-1", "t-a-2"]


def test_known_people_and_unrestricted_zones_raise_nothing() -> None:
    loc = Locator(SITE, smoothing=1.0)
    assert not any(r.alerts for r in walk(loc, [(3, 3), (7, 3), (8, 3)]))
    loc2 = Locator(SITE, smoothing=1.0)
    assert not any(
        r.alerts
        for r in walk(loc2, [(2, 3), (3, 3)], person=5, identity="unknown", label="Unknown 5")
    )


def test_unidentified_in_restricted_zone_alerts() -> None:
    loc = Locator(SITE, smoothing=1.0)
    results = walk(loc, [(7, 3), (7, 3)], person=None, kind="profile", label="Unidentified")
    assert [a.person_key for r in results for a in r.alerts] == ["t-a-1"]


def test_zone_enter_and_leave_events() -> None:
    loc = Locator(SITE, smoothing=1.0, zone_dwell_s=0)  # hysteresis alone
    results = walk(loc, [(3, 3), (5.95, 3), (6.1, 3), (5.9, 3), (6.15, 3), (7.5, 3)])
    events = [(e.action, e.zone, e.restricted) for r in results for e in r.zone_events]
    assert events == [("enter", "hall", False), ("leave", "hall", False), ("enter", "vault", True)]
    assert results[-1].placements[0].zone == "vault"


def test_smoothing_damps_a_jump() -> None:
    loc = Locator(SITE, smoothing=0.5)
    walk(loc, [(3, 3)])
    (pos,) = walk(loc, [(4, 3)], t0=101)[0].positions
    assert 3.2 < pos.x < 3.8


def test_people_not_seen_become_gone() -> None:
    loc = Locator(SITE, stale_after_s=30)
    walk(loc, [(3, 3)])
    assert not loc.tick(120).positions
    result = loc.tick(131)
    (pos,) = result.positions
    assert pos.gone and pos.person_key == "p1"
    assert [(e.action, e.zone) for e in result.zone_events] == [("leave", "hall")]
    assert not loc.tick(140).positions and not loc.people()


def test_a_person_who_walked_onto_another_instance_s_cameras_is_handed_over() -> None:
    """Several core instances (docs/scale.md): the person walked onto another
    instance's cameras, which publishes their live position. Not seen here for
    HANDOVER_AFTER_S, they are looked for there; found, they leave their zone here
    when they were seen there (as with one core), and no gone goes out (it would wipe
    the live position the other instance publishes)."""
    asked: list[dict[str, float]] = []

    def seen_elsewhere(since: dict[str, float]) -> dict[str, float]:
        asked.append(dict(since))
        return {"p1": 103.5} if since["p1"] < 103.5 else {}

    loc = Locator(SITE, stale_after_s=30)
    loc.seen_elsewhere = seen_elsewhere
    walk(loc, [(3, 3)])
    assert not loc.tick(100 + HANDOVER_AFTER_S).positions and not asked  # a moment away
    result = loc.tick(104)
    assert not result.positions
    assert [(e.action, e.zone, e.at) for e in result.zone_events] == [("leave", "hall", 103.5)]
    assert asked == [{"p1": 100.0}] and not loc.people()
    assert not loc.tick(140).positions and len(asked) == 1  # handed over: not asked again


def test_a_person_nobody_else_sees_stays_until_stale_and_is_published_gone() -> None:
    asked: list[dict[str, float]] = []

    def nowhere_else(since: dict[str, float]) -> dict[str, float]:
        asked.append(since)
        return {}

    loc = Locator(SITE, stale_after_s=30)
    loc.seen_elsewhere = nowhere_else
    walk(loc, [(3, 3)])
    assert not loc.tick(104).positions and loc.people()  # asked, not seen elsewhere
    (pos,) = loc.tick(131).positions
    assert pos.gone and pos.person_key == "p1" and len(asked) == 2


def test_camera_without_pose_gives_a_placement_without_position() -> None:
    loc = Locator(SITE)
    unposed = A.model_copy(update={"camera_id": "nowhere"})
    result = loc.observe(
        [
            observation(A, 3, 3, 100),
            observation(unposed, 3, 3, 100, person=2),
            observation(B, 4, 3, 100, person=3),
        ],
        now=100,
    )
    assert [(p.person_key, p.x is None) for p in result.placements] == [
        ("p1", False),
        ("p2", True),
        ("p3", False),
    ]
    assert {p.person_key for p in result.positions} == {"p1", "p3"}


def test_without_a_site_nothing_is_placed() -> None:
    result = Locator(None).observe([observation(A, 3, 3, 100)], now=100)
    assert result.placements[0].x is None and not result.positions


def status(state: str = "online", interval: float = 10.0) -> CameraStatus:
    return CameraStatus(
        camera_id="a",
        state=state,  # type: ignore[arg-type]
        sent_at=100,
        heartbeat_interval_s=interval,
    )


def test_camera_offline_alerts_once() -> None:
    loc = Locator(SITE)
    assert loc.camera_status(status(), now=100) == []
    assert loc.tick(125).alerts == []  # 2.5 intervals: not yet
    (alert,) = loc.tick(131).alerts  # 3.1 intervals
    assert (alert.kind, alert.camera_id) == ("camera_offline", "a")
    assert loc.tick(140).alerts == []
    # The site's other camera never said a word since the first tick (125): it too.
    assert [a.camera_id for a in loc.tick(500).alerts] == [
        c.camera_id for c in SITE.plan.cameras if c.camera_id != "a"
    ]
    assert loc.tick(550).alerts == []
    assert loc.camera_status(status(), now=600) == []  # back: may alert again later
    assert len(loc.tick(631).alerts) == 1


def test_camera_saying_goodbye_alerts_once() -> None:
    loc = Locator(SITE)
    loc.camera_status(status(), now=100)
    assert len(loc.camera_status(status("offline"), now=105)) == 1
    assert loc.camera_status(status("offline"), now=106) == []
    assert loc.tick(200).alerts == []


def test_detections_keep_a_camera_alive() -> None:
    loc = Locator(SITE)
    loc.camera_status(status(), now=100)
    loc.observe([observation(A, 3, 3, 125)], now=125)
    assert loc.tick(150).alerts == []


def test_rejection_burst_alerts_once_per_cooldown() -> None:
    loc = Locator(SITE, rejection_threshold=5, rejection_cooldown_s=300)
    assert loc.rejections(4, now=0) == []
    (alert,) = loc.rejections(5, now=1)
    assert alert.kind == "rejection_burst" and "5 messages" in alert.message
    assert loc.rejections(50, now=2) == []
    assert len(loc.rejections(6, now=400)) == 1


def test_bad_smoothing_is_refused() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        Locator(SITE, smoothing=0)


def test_long_camera_ids_still_give_valid_person_keys() -> None:
    long_id = "c" * 64
    site = parse_site(
        {
            "name": "t",
            "width_m": 10.0,
            "height_m": 6.0,
            "cameras": [{"id": long_id, "x": 0.1, "y": 0.1, "yaw_deg": 45, "hfov_deg": 90}],
        }
    )
    pose = site.camera(long_id)
    assert pose is not None
    result = Locator(site).observe(
        [observation(pose, 3, 3, 100, track_id=2**31, person=None, kind="profile")], now=100
    )
    (pos,) = result.positions
    assert pos.person_key.startswith("t-") and len(pos.person_key) <= 64


UNKNOWN_7: dict[str, Any] = {"person": 7, "identity": "unknown", "label": "Unknown 7"}


def test_naming_an_unknown_republishes_under_the_new_key_at_once() -> None:
    loc = Locator(SITE, smoothing=1.0)
    walk(loc, [(3, 3), (3, 3)], track_id=4, **UNKNOWN_7)
    result = loc.rename("u7", "p3", "Kit Harington", now=101)
    gone = [p for p in result.positions if p.gone]
    live = [p for p in result.positions if not p.gone]
    assert [g.person_key for g in gone] == ["u7"]
    assert all(e.label == "Kit Harington" for e in result.zone_events)  # no stale name
    (pos,) = live
    assert (pos.person_key, pos.identity, pos.label) == ("p3", "known", "Kit Harington")
    assert math.hypot(pos.x - 3, pos.y - 3) < 0.5 and pos.zone == "hall"
    events = [(e.person_key, e.action, e.zone) for e in result.zone_events]
    assert events == [("u7", "leave", "hall"), ("p3", "enter", "hall")]
    assert {p.person_key for p in loc.people()} == {"p3"}
    # Two anonymous identities merging keep the "unknown" kind.
    walk(loc, [(2, 2)], t0=102, track_id=5, person=8, identity="unknown", label="Unknown 8")
    result = loc.rename("u8", "u9", "Unknown 9", now=103, identity="unknown")
    (pos,) = [p for p in result.positions if not p.gone]
    assert (pos.person_key, pos.identity, pos.label) == ("u9", "unknown", "Unknown 9")


def test_merging_into_someone_seen_more_recently_keeps_them() -> None:
    loc = Locator(SITE, smoothing=1.0)
    walk(loc, [(2, 3)], t0=100, person=5, label="Ada L.")
    walk(loc, [(4, 3)], t0=105, person=1, label="Ada Lovelace")
    result = loc.rename("p5", "p1", "Ada Lovelace", now=106)
    assert [p.person_key for p in result.positions if p.gone] == ["p5"]
    (pos,) = [p for p in result.positions if not p.gone]
    assert pos.person_key == "p1" and math.hypot(pos.x - 4, pos.y - 3) < 0.5


def test_renaming_in_place_and_renaming_someone_unseen() -> None:
    loc = Locator(SITE, smoothing=1.0)
    walk(loc, [(3, 3)])
    (pos,) = loc.rename("p1", "p1", "Ada King", now=101).positions
    assert (pos.person_key, pos.label, pos.gone) == ("p1", "Ada King", False)
    empty = loc.rename("u9", "p4", "Nobody Seen", now=101)
    assert not empty.positions and not empty.zone_events


def test_a_position_that_is_not_finite_is_refused_where_it_is_built() -> None:
    loc = Locator(SITE)
    loc.observe([observation(A, 4.0, 3.0, 100)], now=100)
    person = loc._people["p1"]
    person.x = float("nan")
    with pytest.raises(ValidationError):
        loc.people()
