"""The node's MQTT side: send the outbox, take core's acks, publish status.

One sender thread drains the outbox in sequence order, signing each payload at
send time; core's signed Ack (verified with core's public key) removes messages.
The unacknowledged ones go again after our own reconnect, as soon as core's signed
status says it is (back) online, and after ``ack_timeout_s`` as a last resort.

An Ack with ``refused`` set removes nothing (issue 21): edge.backlog decides when
those messages go again (store errors in seconds; a clock that is off holds the
backlog behind one probe); edge.hearing keeps what the status says about it.

The retained status carries the heartbeat; a signed "offline" status made at connect
time is the last will. The ack subscription is checked: a broker that refuses it leaves
``failure`` set (the node stops with that sentence), since without acks the outbox
would only grow.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from edge.backlog import Backlog
from edge.config import EdgeConfig
from edge.core_key import AnyClock, CoreKey
from edge.hearing import Hearing
from edge.outbox import Due, Outbox
from edge.srs_config import SrsConfig
from srs import __version__
from srs.mqtt import ConnectionWatcher, Session, SubscriptionRefused, Will
from srs.wire import topics
from srs.wire.payloads import Ack, CameraStatus, CoreStatus, DetectionBatch
from srs.wire.reading import verifier_for
from srs.wire.signing import (
    Reason,
    SigningKey,
    WireError,
    sign,
)

log = logging.getLogger(__name__)

# CONNACK reason codes (MQTT 5 numbering; paho maps 3.1.1's return codes onto them) that
# retrying cannot cure: client id not valid, bad user name or password, not authorized.
REFUSED_FOR_GOOD = frozenset({133, 134, 135})


class Link:
    def __init__(
        self,
        cfg: SrsConfig,
        ecfg: EdgeConfig,
        outbox: Outbox,
        key: SigningKey,
        status: Callable[[], dict[str, Any]],
    ) -> None:
        self.cfg, self.ecfg, self.outbox, self.key = cfg, ecfg, outbox, key
        self.camera_id = ecfg.camera_id
        self._status = status
        self._topic = topics.detections(self.camera_id)
        self._status_topic = topics.camera_status(self.camera_id)
        self.hearing = Hearing(
            allowed_skew_s=cfg.security.clock_skew_s, not_heard_after_s=ecfg.not_heard_after_s
        )
        core_key = CoreKey(ecfg.core_public_key or cfg.keys_dir / "core.key.pub")
        # Acks are checked against core's time as this node knows it (its clock plus the
        # offset measured from core's heartbeat): a node whose clock is off can still
        # read core's answers, refusals included; replays stay refused.
        self._verifier = verifier_for(cfg.security, core_key, clock=self._core_time)
        sec = cfg.security
        self._status_verifier = verifier_for(
            AnyClock(sec.audience, sec.max_message_age_s, sec.max_payload_bytes), core_key
        )
        self.backlog = Backlog(outbox, ecfg, self.hearing, cfg.security.clock_skew_s)
        self.watcher = ConnectionWatcher()
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._reconnected = threading.Event()
        self.sent = 0
        self.acked = 0
        self.refusals = 0
        self.acks_rejected = 0
        self.status_rejected = 0
        self.sign_errors = 0
        user = cfg.mqtt.username or self.camera_id
        will = Will(self._status_topic, self._signed_status("offline", "connection lost"))
        self.refused = False  # the broker refused this node's credentials or client id
        # Why the link cannot work (a refused ack subscription), else None.
        self.failure: str | None = None
        self.session = Session(
            cfg.mqtt,
            self.camera_id,
            will=will,
            username=user,
            subscriptions=[(topics.ack(self.camera_id), 1), (topics.core_status(), 1)],
            on_connect=self._on_connect,
            on_disconnect=self.watcher.on_disconnect,
            on_message=self._on_message,
            on_refused=self._on_refused,
            # Back within ~1 s of the broker (srs.mqtt caps at 5 s): a node's reconnect
            # is cheap, and with 2 s a broker restart's backlog started up to 2 s late,
            # most of issue 21's 3 s.
            reconnect_max_s=1,
        )
        self._thread = threading.Thread(
            target=self._run, name=f"edge-send-{self.camera_id}", daemon=True
        )

    def _core_time(self) -> float:
        return time.time() - (self.hearing.skew_s or 0.0)

    # --- lifecycle -------------------------------------------------------------

    @property
    def client(self) -> paho.Client:
        """The session's client of the moment (a fall-back to MQTT 3.1.1 replaces it)."""
        return self.session.client

    def start(self) -> None:
        self.session.start()
        self._thread.start()

    def stop(self) -> None:
        """Say offline (retained), disconnect, join the threads."""
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self.watcher.connected.is_set():
            info = self.session.publish(
                self._status_topic, self._signed_status("offline", "stopped"), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(2.0)
        self.session.stop()

    # --- paho callbacks (network thread) -----------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        self.watcher.on_connect(client, userdata, flags, reason, properties)
        if not self.watcher.connected.is_set():
            # Bad credentials or client id do not heal by retrying: `--once` stops on them.
            self.refused = getattr(reason, "value", None) in REFUSED_FOR_GOOD
            log.error("camera %s: %s", self.camera_id, self.watcher.last_error)
            return
        self.refused = False
        log.info(
            "camera %s connected to %s:%d", self.camera_id, self.cfg.mqtt.host, self.cfg.mqtt.port
        )
        self.hearing.reconnected()
        self._reconnected.set()
        self.wake.set()

    def _on_refused(self, refused: SubscriptionRefused) -> None:
        ack_filter = topics.ack(self.camera_id)
        if any(flt == ack_filter for flt, _ in refused.refused):
            self.failure = f"camera {self.camera_id} stops: {refused}"
            self.wake.set()
        else:  # core's status (an ACL exported before issue 21): acks still work
            log.warning(
                "camera %s: %s; it re-sends after ack_timeout_s instead of when core returns "
                "(export the broker's ACL again)",
                self.camera_id,
                refused,
            )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic == topics.core_status():
            self._on_core_status(msg)
            return
        try:
            ack = self._verifier.verify(msg.topic, msg.payload, Ack).payload
        except WireError as exc:
            if exc.reason is Reason.REPLAYED and msg.dup:
                return  # the broker redelivered an ack we already applied
            self.acks_rejected += 1
            log.warning("ignored an ack on %s: %s", msg.topic, exc)
            return
        if ack.camera_id != self.camera_id:
            self.acks_rejected += 1
            log.warning("ignored an ack for camera %s on %s's topic", ack.camera_id, self.camera_id)
            return
        if ack.refused is not None:
            self.refusals += len(ack.seqs)
            self.backlog.refused(ack.seqs, ack.refused)
        else:
            self.acked += self.backlog.acked(ack.seqs)
        self.wake.set()

    def _on_core_status(self, msg: paho.MQTTMessage) -> None:
        if not msg.payload:
            return  # a retained status cleared
        try:
            status = self._status_verifier.verify(msg.topic, msg.payload, CoreStatus).payload
        except WireError as exc:
            self.status_rejected += 1
            if self.status_rejected == 1:
                log.warning("ignored core's status on %s: %s", msg.topic, exc)
            return
        was_off = self.hearing.clock_off
        live = not msg.retain
        back = self.hearing.core_status(
            status.state, status.sent_at, status.heartbeat_interval_s, time.time(), live=live
        )
        if back:
            log.info(
                "camera %s: core is online; sending what it has not acknowledged", self.camera_id
            )
        self.backlog.core_status(live, was_off, back)
        self.wake.set()

    # --- sender thread ---------------------------------------------------------------

    def _run(self) -> None:
        next_status = next_log = 0.0
        while not self._stop.is_set():
            self.wake.wait(0.5)
            self.wake.clear()
            self.backlog.check_clock()
            self.hearing.connected = self.watcher.connected.is_set()
            if time.monotonic() >= next_log:  # also while the broker is out of reach
                next_log = time.monotonic() + 1.0
                self._log_hearing()
            if not self.hearing.connected:
                continue
            try:
                if self._reconnected.is_set():
                    self._reconnected.clear()
                    self.backlog.resend.set()
                    next_status = 0.0
                if self.backlog.changed.is_set() or time.monotonic() >= next_status:
                    self.backlog.changed.clear()
                    self._publish_status()
                    next_status = time.monotonic() + self.ecfg.heartbeat_interval_s
                due = self.backlog.next()
                if due and self._publish(due) == len(due) and not self.backlog.holding:
                    self.wake.set()  # maybe more room in the window
            except Exception:  # a bad row or a closed socket must not end the sender
                log.exception("camera %s: sending failed; retrying", self.camera_id)
                self._stop.wait(1.0)

    def _publish(self, due: list[Due]) -> int:
        """Sign and publish ``due`` in order (re-timed by any clock step since each was
        made); returns how many went (all unless the connection dropped meanwhile)."""
        sent = []
        for item in due:
            try:
                batch = DetectionBatch.model_validate_json(item.payload)
                if item.clock_step_s:  # its time on the clock as the clock is now
                    batch = batch.model_copy(
                        update={"captured_at": round(batch.captured_at + item.clock_step_s, 3)}
                    )
                data = sign(
                    batch,
                    self._topic,
                    self.key,
                    audience=self.cfg.security.audience,
                    max_age_s=self.cfg.security.max_message_age_s,
                )
            except Exception as exc:  # noqa: BLE001 - cannot happen for rows we wrote; never loop on it
                self.sign_errors += 1
                log.error("outbox message %d cannot be signed (%s); dropping it", item.seq, exc)
                self.outbox.ack([item.seq])
                continue
            info = self.session.publish(self._topic, data, qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                break  # disconnected meanwhile: the reconnect resends from here
            sent.append(item.seq)
        if sent:
            self.outbox.mark_sent(sent)
            self.sent += len(sent)
        return len(sent)

    def _log_hearing(self) -> None:
        line = self.hearing.log_line(self.outbox.depth)
        if line:
            log.warning("camera %s: %s", self.camera_id, line)

    def _signed_status(self, state: str, message: str = "", **extra: Any) -> bytes:
        status = CameraStatus(
            camera_id=self.camera_id,
            state=state,  # type: ignore[arg-type]
            sent_at=time.time(),
            version=__version__[:32],
            heartbeat_interval_s=self.ecfg.heartbeat_interval_s,
            message=message[:256],
            **extra,
        )
        return sign(status, self._status_topic, self.key, audience=self.cfg.security.audience)

    def _publish_status(self) -> None:
        extra = dict(self._status())
        depth = self.outbox.depth
        extra["outbox_depth"] = depth
        extra["outbox_dropped"] = self.outbox.dropped
        extra["outbox_refused"] = self.outbox.refused
        parts = [self.hearing.sentence(depth) or self.hearing.clock_sentence()]
        if self.acks_rejected:  # forged acks, or core's public key missing/wrong here
            parts.append(f"{self.acks_rejected} ack(s) failed verification")
        parts.append(str(extra.pop("message", "")))
        unheard = self.hearing.unheard_s(depth)
        if unheard is not None:
            extra["unacked_s"] = round(min(unheard, 1e9), 1)
        if self.hearing.skew_s is not None:
            extra["clock_offset_s"] = round(max(-4e9, min(4e9, self.hearing.skew_s)), 1)
        self.session.publish(
            self._status_topic,
            self._signed_status("online", "; ".join(p for p in parts if p), **extra),
            qos=1,
            retain=True,
        )
