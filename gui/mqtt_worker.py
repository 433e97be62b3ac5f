"""The dashboard's MQTT client: runs in paho's network thread, talks to Qt by signals.

Signals emitted from paho's thread are queued by Qt onto the GUI thread, so no
widget is touched off the GUI thread. Positions are not signalled one by one: they
go into a dict (latest per person) that the window drains once per frame.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from PySide6.QtCore import QObject, Signal

from gui.inbox import Inbox
from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import Session, SubscriptionRefused, connack_sentence
from srs.wire import SigningKey, commands, payloads, sign, topics
from srs.wire.topics import TopicKind

log = logging.getLogger(__name__)

CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting…"
WRONG_PASSWORD = "wrong password"
UNREACHABLE = "broker unreachable"
REFUSED = "refused"
STOPPED = "stopped"
RECONNECT_MAX_DELAY_S = 4

SUBSCRIPTIONS = (
    topics.key(topics.CORE_SENDER),
    topics.SITE,
    topics.ALL_CAMERA_KEYS,
    topics.ALL_CAMERA_STATUS,
    topics.ALL_POSITIONS,
    topics.SIGHTINGS,
    topics.ZONE_EVENTS,
    topics.ALERTS,
    topics.CORE_STATUS,
)


class MqttWorker(QObject):
    state_changed = Signal(str, str)  # state, sentence for the operator
    site_received = Signal(object)  # SitePlan
    camera_status = Signal(object)  # CameraStatus
    sightings = Signal(object)  # SightingBatch: the sightings of one commit of core
    zone_event = Signal(object)
    alert = Signal(object)
    core_status = Signal(object)
    response = Signal(object, object)  # Response, the command it answers (or None)
    dropped = Signal(int)  # running total of refused messages
    camera_vouched = Signal(str, bool)  # camera id; False: core withdrew it (disabled)

    def __init__(
        self,
        mqtt_cfg: MqttConfig,
        security: SecurityConfig,
        inbox: Inbox,
        *,
        user: str,
        password: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.user = topics.check_id(user, "user name")
        self.inbox = inbox
        self.state = STOPPED
        self._mqtt_cfg = mqtt_cfg
        self._security = security
        self._password = password
        self._session_key = SigningKey.generate(topics.operator_issuer(self.user))
        self._lock = threading.Lock()
        self._positions: dict[str, payloads.PersonPosition | None] = {}
        self._pending: dict[str, tuple[Any, float]] = {}
        self._session: Session | None = None
        # Exact status/key topics of the site's cameras, subscribed on this connection.
        self._camera_topics: set[str] = set()
        self.client_id = f"{self.user}:gui-{secrets.token_hex(4)}"

    # --- lifecycle (GUI thread) -------------------------------------------------

    def start(self) -> None:
        # Key topic first so core's key is known before the state it signs arrives.
        session = Session(
            self._mqtt_cfg,
            self.client_id,
            username=self.user,
            password=self._password,
            subscriptions=[(t, 1) for t in SUBSCRIPTIONS] + [(topics.response(self.user), 1)],
            on_connect=self._on_connect,
            on_connect_fail=self._on_connect_fail,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
            on_subscribed=self._on_subscribed,
            on_refused=self._on_refused,
            # One dashboard per desk, not a fleet: retry often so "reconnecting…" stays short.
            reconnect_max_s=RECONNECT_MAX_DELAY_S,
        )
        self._session = session
        self._set_state(CONNECTING, f"connecting to {self._mqtt_cfg.host}:{self._mqtt_cfg.port}…")
        session.start()

    def stop(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        session.stop()
        self._set_state(STOPPED, "signed out")

    # --- operator requests ------------------------------------------------------

    def send(self, command: Any) -> str:
        """Sign and publish one command; returns its request id (answer: `response`)."""
        if self.state != CONNECTED:
            # Queued requests could reach core after they expired; say so now instead.
            raise RuntimeError(
                f"not connected to the broker ({self.state}); try again "
                "once the status bar says connected"
            )
        rid = uuid.uuid4().hex
        with self._lock:
            self._pending[rid] = (command, time.time())
        self._publish_request(commands.Request(request_id=rid, command=command))
        return rid

    def register_key(self) -> None:
        """Announce this session's key (signed with it). Sent on every connect and again
        when core comes back online, because core keeps operator keys in memory only."""
        register = commands.RegisterKey(public_key=self._session_key.public_key_b64)
        rid = uuid.uuid4().hex
        with self._lock:
            self._pending[rid] = (register, time.time())
        self._publish_request(commands.Request(request_id=rid, command=register))

    def resubscribe(self, topic_filter: str) -> None:
        """Subscribe again: the broker then re-sends that filter's retained messages
        (used when the retained site plan has not arrived)."""
        session = self._session
        if session is not None and self.state == CONNECTED:
            session.subscribe([(topic_filter, 1)])

    def expire_requests(self, timeout_s: float, now: float | None = None) -> list[Any]:
        """Forget and return the commands that got no answer within ``timeout_s``."""
        now = time.time() if now is None else now
        with self._lock:
            late = [rid for rid, (_, at) in self._pending.items() if now - at > timeout_s]
            return [self._pending.pop(rid)[0] for rid in late]

    def take_positions(self) -> dict[str, payloads.PersonPosition | None]:
        """The latest position per person since the last call (drained once per frame);
        None for a person whose retained position was cleared."""
        with self._lock:
            out, self._positions = self._positions, {}
        return out

    def _publish_request(self, request: commands.Request) -> None:
        session = self._session
        if session is None:
            raise RuntimeError("not signed in")
        topic = topics.request(self.user)
        data = sign(
            request,
            topic,
            self._session_key,
            audience=self._security.audience,
            max_age_s=self._security.max_message_age_s,
        )
        session.publish(topic, data, qos=1)

    # --- paho callbacks (network thread) ---------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if reason.is_failure:
            sentence = connack_sentence(reason)
            state = WRONG_PASSWORD if "user name or password" in sentence else REFUSED
            self._set_state(state, sentence[0].upper() + sentence[1:] + ".")
            client.disconnect()  # retrying the same password would only be refused again
            return
        self._camera_topics = set()  # a new connection (clean session) has none

    def _on_refused(self, refused: SubscriptionRefused) -> None:
        # The broker ACL denied some topics: this user is not an operator.
        self._set_state(
            REFUSED,
            f"The broker refused {len(refused.refused)} of the dashboard's "
            f"subscriptions ({refused}): is this user an operator?",
        )

    def _on_subscribed(self) -> None:
        # "Connected" only once subscribed: from now on nothing published is missed.
        self.register_key()
        self._set_state(
            CONNECTED, f"connected to {self._mqtt_cfg.host}:{self._mqtt_cfg.port} as {self.user}"
        )

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._set_state(
            UNREACHABLE,
            f"The broker at {self._mqtt_cfg.host}:{self._mqtt_cfg.port} "
            "cannot be reached; retrying…",
        )

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if self._session is None or self.state in (WRONG_PASSWORD, REFUSED):
            return
        self._set_state(RECONNECTING, "Lost the connection to the broker; reconnecting…")

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        before = self.inbox.dropped_total
        for message in self.inbox.accept(msg.topic, bytes(msg.payload)):
            if message.payload is not None:
                self._dispatch(message.kind, message.payload)
            elif message.kind is TopicKind.POSITION and message.subject:
                with self._lock:
                    self._positions[message.subject] = None  # cleared: the person is gone
            elif message.kind is TopicKind.CAMERA_KEY and message.subject:
                self.camera_vouched.emit(message.subject, False)
        after = self.inbox.dropped_total
        if after != before:
            self.dropped.emit(after)

    def _dispatch(self, kind: TopicKind, payload: Any) -> None:
        if kind is TopicKind.POSITION:
            with self._lock:
                self._positions[payload.person_key] = payload
        elif kind is TopicKind.CAMERA_KEY:
            self.camera_vouched.emit(payload.sender.removeprefix("camera:"), True)
        elif kind is TopicKind.RESPONSE:
            with self._lock:
                command = self._pending.pop(payload.request_id, (None, 0.0))[0]
            quiet = payload.ok and isinstance(command, commands.RegisterKey)
            if (command is not None or not payload.ok) and not quiet:
                self.response.emit(payload, command)
        else:
            if kind is TopicKind.SITE:
                self._subscribe_cameras(payload)
            signal = {
                TopicKind.SITE: self.site_received,
                TopicKind.SIGHTINGS: self.sightings,
                TopicKind.CAMERA_STATUS: self.camera_status,
                TopicKind.ZONE_EVENTS: self.zone_event,
                TopicKind.ALERTS: self.alert,
                TopicKind.CORE_STATUS: self.core_status,
            }[kind]
            signal.emit(payload)

    def _subscribe_cameras(self, plan: Any) -> None:
        """Subscribe each site camera's key and status topics by name too.

        RabbitMQ 3.10 sends retained messages only to subscriptions without wildcards,
        so on it the wildcard subscriptions above would show every camera "unknown"
        until its next heartbeat. A broker that does send them there may deliver both
        copies: each is the same state, applied twice."""
        session = self._session
        wanted = {
            t
            for cam in plan.cameras
            for t in (topics.camera_key(cam.camera_id), topics.camera_status(cam.camera_id))
        }
        new = sorted(wanted - self._camera_topics)
        if session is not None and new:
            self._camera_topics |= set(new)
            session.subscribe([(t, 1) for t in new])

    def _set_state(self, state: str, sentence: str) -> None:
        self.state = state
        log.info("MQTT: %s (%s)", state, sentence)
        self.state_changed.emit(state, sentence)
