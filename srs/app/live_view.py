"""A terminal view of who is where: verified live topics, refreshed in place.

Used by ``srs demo --headless`` (and anywhere without a display). Subscribes with
operator rights, verifies every message with the senders' pinned keys, and keeps
the latest state; :func:`srs.app.live_table.render` turns it into a table.

Latency here is camera to screen: from a position's ``last_seen`` (the capture
time of the frame that placed the person, stamped by the camera node) to the moment
this view receives it, for live positions only (a retained one, replayed when the
view subscribes, is old news, not latency).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import Session
from srs.wire import KeyLookup, WireError, registry, topics
from srs.wire.payloads import Alert, CameraStatus, CoreStatus, PersonPosition, ZoneEvent
from srs.wire.reading import verifier_for
from srs.wire.topics import TopicKind

log = logging.getLogger(__name__)

LATENCY_SAMPLES = 5000  # the latest positions' latencies kept for the percentiles
MAX_ALERTS = 1000

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
    alerts: list[Alert] = field(default_factory=list)  # every alert (bounded), in order
    # restricted-zone stays begun, per (person key, zone): what "one alert per stay" counts
    stays: Counter[tuple[str, str]] = field(default_factory=Counter)
    # the cameras that have placed each person (key) during this view, and their label
    cameras_of: dict[str, set[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    # (person key, camera) -> positions that camera placed from a fresh encoding
    # (evidence "matched"): how much of the identity's evidence comes from there
    encoded: Counter[tuple[str, str]] = field(default_factory=Counter)
    latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    refused: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def latency_percentiles(self) -> tuple[float, float] | None:
        """Camera-to-screen latency p50 and p99 (ms), or None before any position."""
        with self.lock:
            samples = sorted(self.latency_ms)
        if not samples:
            return None
        n = len(samples)
        return samples[(n - 1) // 2], samples[min(n - 1, round(0.99 * (n - 1)))]

    def encoded_by(self, camera: str, at_least: int = 1) -> list[str]:
        """Keys of the anonymous identities ``camera`` placed from at least
        ``at_least`` fresh encodings."""
        with self.lock:
            return sorted(
                k
                for (k, c), n in self.encoded.items()
                if k.startswith("u") and c == camera and n >= at_least
            )

    def seen_by(self, *cameras: str) -> list[str]:
        """Keys of the anonymous identities placed by all these cameras."""
        with self.lock:
            return sorted(
                k
                for k, cams in self.cameras_of.items()
                if k.startswith("u") and set(cameras) <= cams
            )


SUBSCRIPTIONS = (
    topics.ALL_POSITIONS,
    topics.ALL_CAMERA_STATUS,
    topics.CORE_STATUS,
    topics.ZONE_EVENTS,
    topics.ALERTS,
)


class LiveView:
    """Context manager: a verifying subscriber that fills a :class:`LiveState`."""

    def __init__(
        self, mqtt: MqttConfig, security: SecurityConfig, keys: KeyLookup, client_id: str
    ) -> None:
        self.state = LiveState()
        self._verifier = verifier_for(security, keys)
        self.session = Session(
            mqtt,
            client_id,
            subscriptions=[(flt, 1) for flt in SUBSCRIPTIONS],
            on_connect=self._on_connect,
            on_message=self._on_message,
        )

    def __enter__(self) -> LiveView:
        self.session.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.stop()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if self.session.last_error is not None:
            log.error("live view could not connect: %s", self.session.last_error)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if not msg.payload:  # a cleared retained topic (e.g. an erased person)
            return
        try:
            parsed = topics.parse(msg.topic)
            if parsed.kind not in _READS:
                raise KeyError(parsed.kind)
            model = registry.model_of(parsed)
            payload = self._verifier.verify(msg.topic, msg.payload, model).payload
            registry.check_subject(parsed, payload)  # a camera speaks only for itself
        except (WireError, KeyError, topics.TopicError) as exc:
            reason = exc.reason.value if isinstance(exc, WireError) else "unexpected_topic"
            with self.state.lock:
                self.state.refused[reason] += 1
            return
        received = time.time()
        with self.state.lock:
            s = self.state
            if isinstance(payload, PersonPosition):
                if payload.gone:
                    s.positions.pop(payload.person_key, None)
                    return
                previous = s.positions.get(payload.person_key)
                s.positions[payload.person_key] = payload
                s.labels[payload.person_key] = payload.label
                s.cameras_of.setdefault(payload.person_key, set()).update(payload.cameras)
                fresh = previous is None or payload.last_seen > previous.last_seen
                if fresh and payload.evidence == "matched":
                    for camera in payload.cameras:
                        s.encoded[(payload.person_key, camera)] += 1
                if fresh and not msg.retain:
                    s.latency_ms.append(max(0.0, received - payload.last_seen) * 1000)
            elif isinstance(payload, CameraStatus):
                s.cameras[payload.camera_id] = payload
                s.camera_seen[payload.camera_id] = time.time()
            elif isinstance(payload, CoreStatus):
                s.core = payload
            elif isinstance(payload, ZoneEvent):
                s.zone_events += 1
                if payload.restricted and payload.action == "enter":
                    s.stays[(payload.person_key, payload.zone)] += 1
            elif isinstance(payload, Alert):
                s.alerts = [*s.alerts[-(MAX_ALERTS - 1) :], payload]
