"""Alerts core raises: an unknown person in a restricted zone, a camera gone silent,
a burst of rejected messages. Each condition alerts once, then stays quiet until it
has cleared, so an operator sees one line per incident, not one per message.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from srs.wire.payloads import Alert, CameraStatus

log = logging.getLogger(__name__)

# A camera that misses this many heartbeats in a row is offline.
MISSED_HEARTBEATS = 3


def _alert_id() -> str:
    return uuid.uuid4().hex


def unknown_in_restricted(
    person_key: str, label: str, zone_id: str, zone_name: str, at: float
) -> Alert:
    return Alert(
        alert_id=_alert_id(),
        kind="unknown_in_restricted",
        severity="critical",
        message=f"{label} (not a known person) entered restricted zone {zone_name!r}"[:512],
        at=at,
        person_key=person_key,
        zone=zone_id,
        category="security",
    )


def camera_offline(camera_id: str, at: float, reason: str) -> Alert:
    return Alert(
        alert_id=_alert_id(),
        kind="camera_offline",
        severity="warning",
        message=f"camera {camera_id!r} is offline: {reason}"[:512],
        at=at,
        camera_id=camera_id,
        category="operational",
    )


def rejection_burst(count: int, window_s: float, at: float) -> Alert:
    return Alert(
        alert_id=_alert_id(),
        kind="rejection_burst",
        severity="warning",
        message=f"{count} messages rejected in the last {window_s:g} s: check "
        "camera keys and clocks, or someone is sending forged messages",
        at=at,
        category="security",
    )


def store_error(message: str, at: float, *, recovered: bool = False) -> Alert:
    """Core cannot write its database (or, ``recovered``, can again): SRS's own
    trouble, not anyone's attack."""
    return Alert(
        alert_id=_alert_id(),
        kind="store_error",
        severity="info" if recovered else "critical",
        message=message[:512],
        at=at,
        category="operational",
    )


@dataclass(slots=True)
class _Stay:
    left_at: float | None  # None: inside now


class RestrictedStays:
    """Whether an unknown person entering a restricted zone begins a *new* stay.

    One alert per person per stay: a stay survives stepping out of the zone for up
    to ``grace_s`` (a flicker at the boundary, a moment out of every camera) and a
    change of key of the same person (a track's unidentified stand-in ``t-cam-7``
    later recognised as ``u3``, an anonymous identity named or merged): the
    locator carries the stay to the new key.
    """

    def __init__(self, grace_s: float = 30.0) -> None:
        self.grace_s = grace_s
        self._stays: dict[tuple[str, str], _Stay] = {}

    def enter(self, person_key: str, zone: str, at: float) -> bool:
        """Note the person inside; True when this begins a new stay (alert)."""
        stay = self._stays.get((person_key, zone))
        self._stays[(person_key, zone)] = _Stay(None)
        return stay is None or (stay.left_at is not None and at - stay.left_at > self.grace_s)

    def leave(self, person_key: str, zone: str, at: float) -> None:
        stay = self._stays.get((person_key, zone))
        if stay is not None:
            stay.left_at = at if stay.left_at is None else max(stay.left_at, at)

    def carry(self, old_key: str, new_key: str, at: float) -> None:
        """``new_key`` is the same person as ``old_key``: it continues their stays."""
        for (key, zone), stay in list(self._stays.items()):
            if key != old_key:
                continue
            mine = self._stays.get((new_key, zone))
            left_at = at if stay.left_at is None else stay.left_at
            if mine is None or (mine.left_at is not None and mine.left_at < left_at):
                self._stays[(new_key, zone)] = _Stay(left_at)

    def tick(self, now: float) -> None:
        """Forget stays that ended more than ``grace_s`` ago."""
        for k, stay in list(self._stays.items()):
            if stay.left_at is not None and now - stay.left_at > self.grace_s:
                del self._stays[k]


# The interval assumed for a camera that has not said one yet (the edge's default).
DEFAULT_HEARTBEAT_S = 10.0


@dataclass(slots=True)
class _CameraState:
    last_heard: float
    interval_s: float
    offline: bool = False
    ever_heard: bool = True


class CameraWatch:
    """Tracks each camera's heartbeat; alerts once when it stops or says goodbye.

    ``expected`` cameras (those of the site plan) are watched from the first tick even
    if they never say a word: a camera that was never installed, never started or
    cannot reach the broker is exactly what the security desk must hear about.
    """

    def __init__(self, expected: tuple[str, ...] = ()) -> None:
        self._cams: dict[str, _CameraState] = {}
        self._expected = expected
        self._disabled: frozenset[str] = frozenset()

    def set_disabled(self, camera_ids: frozenset[str], now: float) -> None:
        """Cameras the operator switched off: their silence is no incident. One that
        is enabled again is watched afresh from ``now``."""
        for camera_id in self._disabled - camera_ids:
            cam = self._cams.get(camera_id)
            if cam is not None:
                cam.last_heard, cam.offline = now, False
        self._disabled = camera_ids

    def status(self, status: CameraStatus, now: float) -> list[Alert]:
        cam = self._cams.get(status.camera_id)
        if cam is None:
            cam = self._cams[status.camera_id] = _CameraState(now, status.heartbeat_interval_s)
        cam.interval_s = status.heartbeat_interval_s
        if status.state == "offline":
            return self._offline(
                status.camera_id, cam, now, status.message or "it reported going offline"
            )
        cam.last_heard = now
        cam.ever_heard = True
        if cam.offline:
            log.info("camera %s is back online", status.camera_id)
            cam.offline = False
        return []

    def heard(self, camera_id: str, now: float) -> None:
        """Detections also prove a camera alive (only for cameras that sent a status)."""
        cam = self._cams.get(camera_id)
        if cam is not None and cam.ever_heard and not cam.offline:
            cam.last_heard = max(cam.last_heard, now)

    def tick(self, now: float) -> list[Alert]:
        for camera_id in self._expected:  # the clock starts at the first tick
            self._cams.setdefault(
                camera_id, _CameraState(now, DEFAULT_HEARTBEAT_S, ever_heard=False)
            )
        self._expected = ()
        alerts: list[Alert] = []
        for camera_id, cam in self._cams.items():
            if camera_id in self._disabled:
                continue
            silent = now - cam.last_heard
            if silent > MISSED_HEARTBEATS * cam.interval_s:
                reason = (
                    f"no heartbeat for {silent:.0f} s"
                    if cam.ever_heard
                    else f"it is in the site plan but has sent no status in the {silent:.0f}"
                    " s since core started (not installed, not running, or it cannot"
                    " reach the broker)"
                )
                alerts += self._offline(camera_id, cam, now, reason)
        return alerts

    def _offline(self, camera_id: str, cam: _CameraState, now: float, reason: str) -> list[Alert]:
        if cam.offline:
            return []
        cam.offline = True
        log.warning("camera %s is offline: %s", camera_id, reason)
        return [camera_offline(camera_id, now, reason)]


class RejectionWatch:
    """Alerts when ``threshold`` rejections fall in the window; then waits ``cooldown_s``."""

    def __init__(
        self, threshold: int = 20, window_s: float = 60.0, cooldown_s: float = 300.0
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._last_alert: float | None = None

    def check(self, count_in_window: int, now: float) -> list[Alert]:
        if count_in_window < self.threshold:
            return []
        if self._last_alert is not None and now - self._last_alert < self.cooldown_s:
            return []
        self._last_alert = now
        log.warning("%d messages rejected in %g s", count_in_window, self.window_s)
        return [rejection_burst(count_in_window, self.window_s, now)]
