"""A terminal view of who is where: verified live topics, refreshed in place.

Used by ``srs demo --headless`` (and anywhere without a display). Subscribes with
operator rights, verifies every message with the senders' pinned keys, and keeps
the latest state; :func:`render` turns it into a table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import guarded, make_client
from srs.wire import KeyLookup, WireError, registry, topics
from srs.wire.payloads import Alert, CameraStatus, CoreStatus, PersonPosition, ZoneEvent
from srs.wire.reading import verifier_for
from srs.wire.topics import TopicKind

log = logging.getLogger(__name__)

# The kinds the live view reads; their models come from the contract's registry.
_READS = frozenset(
    {
        TopicKind.POSITION,
        TopicKind.CAMERA_STATUS,
        TopicKind.CORE_STATUS,
        TopicKind.ZONE_EVENTS,
        TopicKind.ALERTS,
    }
)


@dataclass
class LiveState:
    positions: dict[str, PersonPosition] = field(default_factory=dict)
    cameras: dict[str, CameraStatus] = field(default_factory=dict)
    camera_seen: dict[str, float] = field(default_factory=dict)
    core: CoreStatus | None = None
    zone_events: int = 0
    alerts: list[Alert] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class LiveView:
    """Context manager: a verifying subscriber that fills a :class:`LiveState`."""

    def __init__(
        self, mqtt: MqttConfig, security: SecurityConfig, keys: KeyLookup, client_id: str
    ) -> None:
        self.state = LiveState()
        self._verifier = verifier_for(security, keys)
        self._mqtt = mqtt
        self._client = make_client(mqtt, client_id)
        self._client.on_connect = guarded(self._on_connect, "connect")
        self._client.on_message = guarded(self._on_message, "message")

    def __enter__(self) -> LiveView:
        self._client.connect_async(self._mqtt.host, self._mqtt.port, self._mqtt.keepalive_s)
        self._client.loop_start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("live view could not connect: %s", reason)
            return
        for flt in (
            topics.ALL_POSITIONS,
            topics.ALL_CAMERA_STATUS,
            topics.CORE_STATUS,
            topics.ZONE_EVENTS,
            topics.ALERTS,
        ):
            client.subscribe(flt, qos=1)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if not msg.payload:  # a cleared retained topic (e.g. an erased person)
            return
        try:
            parsed = topics.parse(msg.topic)
            if parsed.kind not in _READS:
                raise KeyError(parsed.kind)
            model = registry.model_of(parsed)
            payload: Any = self._verifier.verify(msg.topic, msg.payload, model).payload
            registry.check_subject(parsed, payload)  # a camera speaks only for itself
        except (WireError, KeyError, topics.TopicError) as exc:
            reason = exc.reason.value if isinstance(exc, WireError) else "unexpected_topic"
            with self.state.lock:
                self.state.refused[reason] += 1
            return
        with self.state.lock:
            s = self.state
            if isinstance(payload, PersonPosition):
                if payload.gone:
                    s.positions.pop(payload.person_key, None)
                else:
                    s.positions[payload.person_key] = payload
            elif isinstance(payload, CameraStatus):
                s.cameras[payload.camera_id] = payload
                s.camera_seen[payload.camera_id] = time.time()
            elif isinstance(payload, CoreStatus):
                s.core = payload
            elif isinstance(payload, ZoneEvent):
                s.zone_events += 1
            elif isinstance(payload, Alert):
                s.alerts = [*s.alerts[-4:], payload]


def _ago(t: float, now: float) -> str:
    d = max(0.0, now - t)
    return f"{d:.0f} s ago" if d < 120 else f"{d / 60:.0f} min ago"


def render(state: LiveState, now: float, title: str = "SRS") -> str:
    """The table of who is where, cameras and core counters, as plain text."""
    with state.lock:
        positions = sorted(state.positions.values(), key=lambda p: (p.identity, p.label))
        cameras = dict(state.cameras)
        seen = dict(state.camera_seen)
        core = state.core
        alerts = list(state.alerts)
        refused = sum(state.refused.values())
    lines = [
        f"{title} - {time.strftime('%H:%M:%S', time.localtime(now))}",
        "",
        f"{'WHO':<22} {'IDENTITY':<13} {'ZONE':<16} {'X,Y (m)':<13} {'CAMERAS':<20} LAST SEEN",
    ]
    for p in positions:
        where = f"{p.x:5.1f},{p.y:5.1f}"
        lines.append(
            f"{p.label[:22]:<22} {p.identity:<13} {(p.zone or '-')[:16]:<16} "
            f"{where:<13} {','.join(p.cameras)[:20]:<20} {_ago(p.last_seen, now)}"
        )
    if not positions:
        lines.append("(nobody placed yet)")
    lines += ["", f"{'CAMERA':<14} {'STATE':<8} {'FPS':>5} {'ANALYSED':>9} {'OUTBOX':>7}"]
    for cam_id, c in sorted(cameras.items()):
        silent = now - seen.get(cam_id, 0) > 3 * c.heartbeat_interval_s
        state_text = "offline" if c.state == "offline" or silent else "online"
        lines.append(
            f"{cam_id:<14} {state_text:<8} {c.fps:5.1f} {c.frames_analysed:>9} {c.outbox_depth:>7}"
        )
    if core is not None:
        rejected = sum(core.rejected.values())
        p50 = f"{core.latency_p50_ms:.1f}" if core.latency_p50_ms is not None else "-"
        p99 = f"{core.latency_p99_ms:.1f}" if core.latency_p99_ms is not None else "-"
        lines += [
            "",
            f"core: received {core.received}  accepted {core.accepted}  "
            f"duplicates {core.duplicates}  rejected {rejected}  matched "
            f"{core.matched}  unknown {core.unknown}  latency p50 {p50} ms "
            f"p99 {p99} ms",
        ]
    if refused:
        lines.append(f"view: {refused} message(s) failed verification and were ignored")
    for a in alerts:
        lines.append(f"ALERT {time.strftime('%H:%M:%S', time.localtime(a.at))} {a.message}")
    return "\n".join(lines)
