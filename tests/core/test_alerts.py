"""Alert builders and the once-per-incident watches."""

from __future__ import annotations

from core.alerts import CameraWatch, RejectionWatch, camera_offline, unknown_in_restricted
from srs.wire.payloads import CameraStatus


def test_alert_builders() -> None:
    a = unknown_in_restricted("u7", "Unknown 7", "server-room", "Server room", 10.0)
    assert (a.kind, a.severity, a.person_key, a.zone, a.at) == (
        "unknown_in_restricted",
        "critical",
        "u7",
        "server-room",
        10.0,
    )
    assert "Unknown 7" in a.message and "'Server room'" in a.message
    b = camera_offline("corridor", 11.0, "no heartbeat for 31 s")
    assert (b.kind, b.camera_id) == ("camera_offline", "corridor")
    assert a.alert_id != b.alert_id


def test_long_labels_still_make_valid_alerts() -> None:
    a = unknown_in_restricted("u7", "x" * 128, "z", "y" * 128, 1.0)
    assert len(a.message) <= 512


def test_camera_watch_per_camera() -> None:
    watch = CameraWatch()
    for cam, interval in (("a", 10.0), ("b", 2.0)):
        watch.status(
            CameraStatus(camera_id=cam, state="online", sent_at=0, heartbeat_interval_s=interval),
            now=0,
        )
    (alert,) = watch.tick(7)  # b missed 3 of its 2 s heartbeats, a did not
    assert alert.camera_id == "b"
    watch.heard("unknown-camera", 8)  # never sent a status: not watched
    assert [a.camera_id for a in watch.tick(31)] == ["a"]


def test_a_site_camera_that_never_speaks_is_reported_once() -> None:
    watch = CameraWatch(expected=("office", "corridor"))
    assert watch.tick(100) == []  # the clock starts at the first tick
    watch.status(CameraStatus(camera_id="corridor", state="online", sent_at=100), now=110)
    watch.heard("office", 120)  # detections alone do not prove a silent camera
    (alert,) = watch.tick(131)  # 3 default (10 s) heartbeats of silence
    assert alert.camera_id == "office" and "site plan" in alert.message
    assert all(a.camera_id != "office" for a in watch.tick(200))  # once per incident
    watch.status(CameraStatus(camera_id="office", state="online", sent_at=201), now=201)
    assert all(a.camera_id != "office" for a in watch.tick(205))  # back, and quiet


def test_rejection_watch_threshold() -> None:
    watch = RejectionWatch(threshold=3, window_s=10, cooldown_s=60)
    assert watch.check(2, 0) == []
    assert len(watch.check(3, 1)) == 1
    assert watch.check(3, 60) == []
    assert len(watch.check(3, 61)) == 1


def test_a_disabled_camera_going_silent_is_no_incident() -> None:
    watch = CameraWatch()
    for cam in ("a", "b"):
        watch.status(CameraStatus(camera_id=cam, state="online", sent_at=0), now=0)
    watch.set_disabled(frozenset({"a"}), now=1)  # the operator switched a off
    assert [a.camera_id for a in watch.tick(40)] == ["b"]
    watch.set_disabled(frozenset(), now=50)  # enabled again: watched from now
    assert watch.tick(60) == []
    assert [a.camera_id for a in watch.tick(81)] == ["a"]
