"""One alert when a camera floods: its messages are captured faster than it can capture.

The broker slows a camera over its rate (broker/throttle.py), so core never sees a
flood arrive faster than that rate; arrival times therefore cannot tell a flood from
an honest camera catching up after an outage. Capture times can: a catching-up
camera's messages were captured over minutes, a flood's within seconds. A camera whose
last ``window`` new messages (by sequence number, so re-sends do not count) were
captured faster than ``max_rate`` per second is flooding: one alert names it, and the
next comes only after its messages looked normal again for ``quiet_s``.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass, field

from srs.wire.payloads import Alert

log = logging.getLogger(__name__)


def camera_flood(camera_id: str, count: int, span_s: float, max_rate: float, at: float) -> Alert:
    rate = count / span_s if span_s > 0 else float(count)
    return Alert(
        alert_id=uuid.uuid4().hex,
        kind="camera_flood",
        severity="warning",
        message=f"camera {camera_id!r} is flooding: {count} messages captured within "
        f"{span_s:.1f} s ({rate:.0f}/s, at most {max_rate:g}/s expected); the broker slows "
        "it to its camera_rate. Check the camera, or whether its key was stolen"[:512],
        at=at,
        camera_id=camera_id,
        category="security",
    )


@dataclass(slots=True)
class _Camera:
    captured: deque[float] = field(default_factory=deque)
    top_seq: int = -1
    flooding: bool = False
    normal_since: float | None = None


class FloodWatch:
    def __init__(self, max_rate: float, window: int = 500, quiet_s: float = 60.0) -> None:
        self.max_rate = max_rate
        self.window = window
        self.quiet_s = quiet_s
        self._cams: dict[str, _Camera] = {}  # bounded: registered cameras only
        self.alerts = 0

    def observe(self, camera_id: str, seq: int, captured_at: float, now: float) -> list[Alert]:
        if self.max_rate <= 0:
            return []
        cam = self._cams.get(camera_id)
        if cam is None:
            cam = self._cams[camera_id] = _Camera()
        if seq <= cam.top_seq:
            return []  # a re-send, or out of order: not a new capture
        cam.top_seq = seq
        cam.captured.append(captured_at)
        if len(cam.captured) > self.window:
            cam.captured.popleft()
        if len(cam.captured) < self.window:
            return []
        span = max(cam.captured) - min(cam.captured)
        if span * self.max_rate < self.window:
            cam.normal_since = None
            if cam.flooding:
                return []
            cam.flooding = True
            self.alerts += 1
            log.warning(
                "camera %s is flooding: %d messages in %.1f s", camera_id, self.window, span
            )
            return [camera_flood(camera_id, self.window, span, self.max_rate, now)]
        if cam.flooding:
            if cam.normal_since is None:
                cam.normal_since = now
            elif now - cam.normal_since >= self.quiet_s:
                cam.flooding = False
                log.info("camera %s no longer floods", camera_id)
        return []
