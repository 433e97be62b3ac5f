"""Every message the dashboard receives passes here: verified, parsed, or dropped.

Qt-free so it runs in paho's network thread and is testable on its own.
Core's messages are verified with core's key (see core_key.py). Camera status is
signed by each camera, whose keys the dashboard does not hold: it is trusted because
the broker ACL lets only that camera publish on its status topic, and it is parsed
strictly (issuer, topic, audience, model, camera id must all agree).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass

import jwt
from pydantic import BaseModel, ValidationError

from gui.core_key import CoreKey
from srs.config import SecurityConfig
from srs.wire import Reason, Verifier, WireError, commands, payloads, site, topics
from srs.wire.signing import describe_validation_error
from srs.wire.topics import TopicKind

log = logging.getLogger(__name__)

MODELS: dict[TopicKind, type[BaseModel]] = {
    TopicKind.POSITION: payloads.PersonPosition,
    TopicKind.SIGHTINGS: payloads.SightingBatch,
    TopicKind.ZONE_EVENTS: payloads.ZoneEvent,
    TopicKind.ALERTS: payloads.Alert,
    TopicKind.CORE_STATUS: payloads.CoreStatus,
    TopicKind.SITE: site.SitePlan,
    TopicKind.RESPONSE: commands.Response,
    TopicKind.CAMERA_STATUS: payloads.CameraStatus,
}
MAX_WAITING = 5000  # core messages held until core's key is known


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
        self._verifier = Verifier(
            core_key.lookup,
            audience=security.audience,
            clock_skew_s=security.clock_skew_s,
            max_age_s=security.max_message_age_s,
            max_bytes=security.max_payload_bytes,
        )
        self._lock = threading.Lock()
        self._waiting: deque[tuple[str, bytes]] = deque(maxlen=MAX_WAITING)
        self.accepted = 0
        self.dropped: Counter[str] = Counter()
        self.last_drop: str = ""

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
        if not data and parsed.kind in topics.RETAINED_KINDS:
            # An empty retained message deletes the retained state (core does this for
            # erased or merged people); it cannot be signed and only says "forget".
            return [Message(parsed.kind, None, parsed.subject)]
        if parsed.kind is TopicKind.CAMERA_STATUS:
            return [self._camera_status(topic, parsed.subject or "", data)]
        model = MODELS.get(parsed.kind)
        if model is None or (parsed.kind is TopicKind.RESPONSE and topic != self._response_topic):
            raise WireError(Reason.BAD_TOPIC, f"the dashboard does not read {topic!r}")
        if self.core_key.key is None:
            with self._lock:
                self._waiting.append((topic, data))
            return []
        verified = self._verifier.verify(topic, data, model)
        with self._lock:
            self.accepted += 1
        return [Message(parsed.kind, verified.payload, parsed.subject)]

    def _camera_status(self, topic: str, camera_id: str, data: bytes) -> Message:
        if len(data) > self._security.max_payload_bytes:
            raise WireError(Reason.OVERSIZE, f"camera status of {len(data)} bytes is too big")
        try:
            claims = jwt.decode(data, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise WireError(Reason.MALFORMED, f"camera status is not a JWS: {exc}") from None
        if claims.get("iss") != topics.camera_issuer(camera_id):
            raise WireError(
                Reason.WRONG_ISSUER,
                f"camera status on {topic!r} was issued by {claims.get('iss')!r}",
            )
        if claims.get("topic") != topic:
            raise WireError(Reason.WRONG_TOPIC, "camera status was signed for another topic")
        if claims.get("aud") != self._security.audience:
            raise WireError(Reason.WRONG_AUDIENCE, "camera status is for another deployment")
        try:
            status = payloads.CameraStatus.model_validate(claims.get("data"))
        except ValidationError as exc:
            raise WireError(Reason.INVALID_PAYLOAD, describe_validation_error(exc)) from None
        if status.camera_id != camera_id:
            raise WireError(
                Reason.WRONG_TOPIC,
                f"status of {status.camera_id!r} arrived on the topic of {camera_id!r}",
            )
        with self._lock:
            self.accepted += 1
        return Message(TopicKind.CAMERA_STATUS, status, camera_id)
