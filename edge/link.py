"""The node's MQTT side: send the outbox, take core's acks, publish status.

One sender thread drains the outbox in sequence order, signing each payload at
send time; core's signed Ack (verified with core's public key) removes messages;
a reconnect or an ack timeout sends the unacknowledged ones again. The retained
status carries the heartbeat; a signed "offline" status made at connect time is
the last will.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.config import EdgeConfig
from edge.outbox import Outbox
from edge.srs_config import SrsConfig
from srs import __version__
from srs.mqtt import ConnectionWatcher, Will, guarded, make_client
from srs.wire import topics
from srs.wire.payloads import Ack, CameraStatus, DetectionBatch
from srs.wire.reading import verifier_for
from srs.wire.signing import (
    Reason,
    SigningKey,
    WireError,
    public_key_from_b64,
    sign,
)

log = logging.getLogger(__name__)


class CoreKey:
    """Core's public key, read from its file when first needed (core may come later)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PublicKey | None = None
        self._warned = False

    def __call__(self, issuer: str) -> Ed25519PublicKey | None:
        if issuer != topics.CORE_SENDER:
            return None
        if self._key is None:
            try:
                self._key = public_key_from_b64(self.path.read_text())
            except (OSError, ValueError) as exc:
                if not self._warned:
                    log.error(
                        "cannot verify acks: core's public key %s is unusable (%s)", self.path, exc
                    )
                    self._warned = True
        return self._key


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
        core_key = CoreKey(ecfg.core_public_key or cfg.keys_dir / "core.key.pub")
        self._verifier = verifier_for(cfg.security, core_key)
        self.watcher = ConnectionWatcher()
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._reconnected = threading.Event()
        self.sent = 0
        self.acked = 0
        self.acks_rejected = 0
        self.sign_errors = 0
        user = cfg.mqtt.username or self.camera_id
        will = Will(self._status_topic, self._signed_status("offline", "connection lost"))
        self.client = make_client(cfg.mqtt, self.camera_id, will=will, username=user)
        self.client.on_connect = guarded(self._on_connect, "connect")
        self.client.on_disconnect = guarded(self.watcher.on_disconnect, "disconnect")
        self.client.on_message = guarded(self._on_message, "message")
        self._thread = threading.Thread(
            target=self._run, name=f"edge-send-{self.camera_id}", daemon=True
        )

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(
            self.cfg.mqtt.host, self.cfg.mqtt.port, keepalive=self.cfg.mqtt.keepalive_s
        )
        self.client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Say offline (retained), disconnect, join the threads."""
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self.watcher.connected.is_set():
            info = self.client.publish(
                self._status_topic, self._signed_status("offline", "stopped"), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(2.0)
        self.client.disconnect()
        self.client.loop_stop()

    # --- paho callbacks (network thread) -----------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        self.watcher.on_connect(client, userdata, flags, reason, properties)
        if not self.watcher.connected.is_set():
            log.error("camera %s: %s", self.camera_id, self.watcher.last_error)
            return
        log.info(
            "camera %s connected to %s:%d", self.camera_id, self.cfg.mqtt.host, self.cfg.mqtt.port
        )
        client.subscribe(topics.ack(self.camera_id), qos=1)
        self._reconnected.set()
        self.wake.set()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
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
        if ack.refused is not None:  # "not stored": keep them (faults-edge acts on it)
            return
        self.acked += self.outbox.ack(ack.seqs)
        self.wake.set()

    # --- sender thread ---------------------------------------------------------------

    def _run(self) -> None:
        next_status = 0.0
        while not self._stop.is_set():
            self.wake.wait(0.5)
            self.wake.clear()
            if not self.watcher.connected.is_set():
                continue
            try:
                if self._reconnected.is_set():
                    self._reconnected.clear()
                    self.outbox.reset_sent()
                    next_status = 0.0
                if time.monotonic() >= next_status:
                    self._publish_status()
                    next_status = time.monotonic() + self.ecfg.heartbeat_interval_s
                self._send_due()
            except Exception:  # a bad row or a closed socket must not end the sender
                log.exception("camera %s: sending failed; retrying", self.camera_id)
                self._stop.wait(1.0)

    def _send_due(self) -> None:
        due = self.outbox.due(ack_timeout_s=self.ecfg.ack_timeout_s, limit=self.ecfg.max_inflight)
        sent = []
        for seq, text in due:
            try:
                data = sign(
                    DetectionBatch.model_validate_json(text),
                    self._topic,
                    self.key,
                    audience=self.cfg.security.audience,
                    max_age_s=self.cfg.security.max_message_age_s,
                )
            except Exception as exc:  # cannot happen for rows we wrote; never loop on it
                self.sign_errors += 1
                log.error("outbox message %d cannot be signed (%s); dropping it", seq, exc)
                self.outbox.ack([seq])
                continue
            info = self.client.publish(self._topic, data, qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                break  # disconnected meanwhile: the reconnect resends from here
            sent.append(seq)
        if sent:
            self.outbox.mark_sent(sent)
            self.sent += len(sent)
        if len(due) and len(sent) == len(due):
            self.wake.set()  # maybe more room in the window

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
        extra["outbox_depth"] = self.outbox.depth
        extra["outbox_dropped"] = self.outbox.dropped
        message = str(extra.pop("message", ""))
        if self.acks_rejected:  # forged acks, or core's public key missing/wrong here
            message = f"{self.acks_rejected} ack(s) failed verification; {message}".strip("; ")
        self.client.publish(
            self._status_topic, self._signed_status("online", message, **extra), qos=1, retain=True
        )
