"""Every message the dashboard receives passes here: verified, parsed, or dropped.

Qt-free so it runs in paho's network thread and is testable on its own.
Core's messages are verified with core's key (see core_key.py). Camera status is
signed by each camera: it is verified with the key core vouches for on
``cameras/{id}/key`` (signed by core, so only a camera registered and enabled in
core's registry is believed), and must name the camera of its topic. A status that
arrives before its camera's key waits for it (the latest one per camera).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from gui.core_key import CoreKey
from srs.config import SecurityConfig
from srs.wire import (
    Reason,
    WireError,
    payloads,
    public_key_from_b64,
    registry,
    topics,
)
from srs.wire.reading import verifier_for
from srs.wire.topics import TopicKind

log = logging.getLogger(__name__)

# The kinds the dashboard reads; their models come from the contract's registry.
READS = frozenset(
    {
        TopicKind.POSITION,
        TopicKind.SIGHTINGS,
        TopicKind.ZONE_EVENTS,
        TopicKind.ALERTS,
        TopicKind.CORE_STATUS,
        TopicKind.SITE,
        TopicKind.RESPONSE,
        TopicKind.CAMERA_STATUS,
        TopicKind.CAMERA_KEY,
    }
)
MAX_WAITING = 5000  # core messages held until core's key is known
MAX_CAMERAS = 1024  # camera statuses held (one per camera) until the camera's key is known


@dataclass(frozen=True, slots=True)
class Message:
    kind: TopicKind
    payload: BaseModel | None  # None: a retained topic was cleared (empty message)
    subject: str | None = None  # the topic's camera id / person key, if any


class Inbox:
    def __init__(self, core_key: CoreKey, security: SecurityConfig, user: str) -> None:
        self.core_key = core_key
        self._security = security
        self._response_topic = topics.response(user)
        self._camera_keys: dict[str, Ed25519PublicKey] = {}  # issuer -> key core vouched for
        self._verifier = verifier_for(security, self._lookup)
        self._lock = threading.Lock()
        self._waiting: deque[tuple[str, bytes]] = deque(maxlen=MAX_WAITING)
        self._waiting_status: dict[str, tuple[str, bytes]] = {}  # camera id -> latest
        self.accepted = 0
        self.dropped: Counter[str] = Counter()
        self.last_drop: str = ""

    def _lookup(self, issuer: str) -> Ed25519PublicKey | None:
        if issuer == topics.CORE_SENDER:
            return self.core_key.lookup(issuer)
        with self._lock:
            return self._camera_keys.get(issuer)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def accept(self, topic: str, data: bytes) -> list[Message]:
        """Messages ready for the GUI (several when core's key just arrived).

        A refused message is counted and logged, never raised.
        """
        try:
            return self._accept(topic, data)
        except WireError as exc:
            with self._lock:
                self.dropped[exc.reason.value] += 1
                self.last_drop = f"{topic}: {exc.message}"
            log.warning("dropped a message on %s: %s", topic, exc)
            return []

    def _accept(self, topic: str, data: bytes) -> list[Message]:
        try:
            parsed = topics.parse(topic)
        except topics.TopicError as exc:
            raise WireError(Reason.BAD_TOPIC, str(exc)) from None
        if parsed.kind is TopicKind.KEY:
            if parsed.subject != topics.CORE_SENDER:
                return []  # other senders' keys: not used by the dashboard
            if not self.core_key.offer(topic, data):
                return []
            with self._lock:
                waiting, self._waiting = list(self._waiting), deque(maxlen=MAX_WAITING)
            out: list[Message] = []
            for t, d in waiting:
                out.extend(self.accept(t, d))
            return out
        if parsed.kind is TopicKind.CAMERA_STATUS:
            return self._camera_status(topic, parsed.subject or "", data)
        if not data and parsed.kind in topics.RETAINED_KINDS:
            # An empty retained message deletes the retained state (core does this for
            # erased or merged people); it cannot be signed and only says "forget".
            if parsed.kind is TopicKind.CAMERA_KEY:
                return self._forget_camera(parsed.subject or "")
            return [Message(parsed.kind, None, parsed.subject)]
        if parsed.kind not in READS or (
            parsed.kind is TopicKind.RESPONSE and topic != self._response_topic
        ):
            raise WireError(Reason.BAD_TOPIC, f"the dashboard does not read {topic!r}")
        if self.core_key.key is None:
            with self._lock:
                self._waiting.append((topic, data))
            return []
        verified = self._verifier.verify(topic, data, registry.model_of(parsed))
        if parsed.kind is TopicKind.CAMERA_KEY:
            return self._learn_camera(parsed.subject or "", verified.payload)
        with self._lock:
            self.accepted += 1
        return [Message(parsed.kind, verified.payload, parsed.subject)]

    def _camera_status(self, topic: str, camera_id: str, data: bytes) -> list[Message]:
        if not data:
            return [Message(TopicKind.CAMERA_STATUS, None, camera_id)]
        if self._lookup(topics.camera_issuer(camera_id)) is None:
            with self._lock:
                if camera_id in self._waiting_status or len(self._waiting_status) < MAX_CAMERAS:
                    self._waiting_status[camera_id] = (topic, data)
            return []
        status = self._verifier.verify(topic, data, payloads.CameraStatus).payload
        if status.camera_id != camera_id:
            raise WireError(
                Reason.WRONG_TOPIC,
                f"status of {status.camera_id!r} arrived on the topic of {camera_id!r}",
            )
        with self._lock:
            self.accepted += 1
        return [Message(TopicKind.CAMERA_STATUS, status, camera_id)]

    def _learn_camera(self, camera_id: str, announced: BaseModel) -> list[Message]:
        """Adopt the key core vouches for, then release the camera's held status."""
        assert isinstance(announced, payloads.PublicKey)
        issuer = topics.camera_issuer(camera_id)
        if announced.sender != issuer:
            raise WireError(
                Reason.WRONG_ISSUER,
                f"the key on the topic of {camera_id!r} is announced for {announced.sender!r}",
            )
        try:
            key = public_key_from_b64(announced.public_key)
        except ValueError as exc:
            raise WireError(Reason.INVALID_PAYLOAD, str(exc)) from None
        with self._lock:
            self.accepted += 1
            self._camera_keys[issuer] = key
            held = self._waiting_status.pop(camera_id, None)
        vouched = Message(TopicKind.CAMERA_KEY, announced, camera_id)
        return [vouched, *(self.accept(*held) if held else [])]

    def _forget_camera(self, camera_id: str) -> list[Message]:
        """Core withdrew the camera (removed or disabled): its status is no longer
        believed, and the dashboard is told (a payload-less camera key message)."""
        with self._lock:
            self._camera_keys.pop(topics.camera_issuer(camera_id), None)
        return [Message(TopicKind.CAMERA_KEY, None, camera_id)]
